# t/IdsessTest.pm: what the idsess TAP tests share: a master key file, the
# postgresql.conf lines of a node that preloads idsess with it, and the
# node itself.
package IdsessTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(write_master_key idsess_conf idsess_node);

# Writes a fresh random master key (64 hex digits, mode 0600) to $path and
# returns it, for tests that look for it where it must not be.
sub write_master_key
{
	my ($path) = @_;
	my $hex = join('', map { sprintf('%02x', int(rand(256))) } 1 .. 32);
	open(my $fh, '>', $path) or die "could not write $path: $!";
	print $fh $hex;
	close($fh);
	chmod(0600, $path) or die "could not chmod $path: $!";
	return $hex;
}

# idsess preloaded with $keyfile, serving $databases and waking at least
# every 200 ms; $extra lines are appended.
sub idsess_conf
{
	my ($keyfile, $databases, $extra) = @_;
	return qq(
shared_preload_libraries = 'idsess'
idsess.master_key_file = '$keyfile'
idsess.databases = '$databases'
idsess.max_nap = '200ms'
) . ($extra // '');
}

# A started node named $name that preloads idsess.  Options: keyfile (a
# master key file, written unless it exists; default idsess.key in the
# node's base directory), databases (served; default postgres), conf (more
# postgresql.conf lines), init (a hash of options for init).  Returns the
# node, and in list context its key file too.
sub idsess_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%{ $opt{init} // {} });
	my $keyfile = $opt{keyfile} // $node->basedir . '/idsess.key';
	write_master_key($keyfile) unless -e $keyfile;
	$node->append_conf('postgresql.conf',
		idsess_conf($keyfile, $opt{databases} // 'postgres', $opt{conf}));
	$node->start;
	return wantarray ? ($node, $keyfile) : $node;
}

1;

# The PostgreSQL versions idsess is built and tested on are said in
# debian/pgversions, META.json's prerequisite, the support table
# (doc/MAIN-README-SUPPORT.md, and README.md once it has the table) and
# src/compat.h: they must agree, and the server this suite runs on must be
# one of them.  META.json and debian/changelog name the version that
# idsess.control installs.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use FindBin;

my $top = "$FindBin::RealBin/..";

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', "$top/$path") or die "could not read $path: $!";
	local $/;
	return <$fh>;
}

my @packaged = grep { /\S/ } split /\n/, slurp('debian/pgversions');
ok(@packaged && !grep({ !/^\d+$/ } @packaged),
	'debian/pgversions lists major versions, one a line: ' . join(' ', @packaged));
my ($lo, $hi) = (sort { $a <=> $b } @packaged)[ 0, -1 ];

my ($meta_lo, $meta_hi) =
  slurp('META.json') =~ /"PostgreSQL"\s*:\s*">= (\d+)\.0\.0, < (\d+)\.0\.0"/;
is($meta_lo, $lo, "META.json's lowest PostgreSQL is debian/pgversions' lowest");
is(defined $meta_hi ? $meta_hi - 1 : undef, $hi,
	"META.json stops after debian/pgversions' highest");

my $compat = slurp('src/compat.h');
my ($c_lo) = $compat =~ /#define IDSESS_PG_MIN_MAJOR (\d+)/;
my ($c_hi) = $compat =~ /#define IDSESS_PG_MAX_MAJOR (\d+)/;
is($c_lo, $lo, "compat.h's lowest PostgreSQL is debian/pgversions' lowest");
is($c_hi, $hi, "compat.h's highest PostgreSQL is debian/pgversions' highest");

# A branch on a release at or below the lowest supported one is dead code;
# above the highest, untested. Each names the release that changed the API.
my @branches = $compat =~ /PG_VERSION_NUM\s*[<>]=?\s*(\d{6})\b/g;
ok(@branches, 'compat.h has version branches');
for my $num (@branches)
{
	my $major = int($num / 10000);
	ok($major > $lo && $major <= $hi,
		"compat.h's branch on $num is between $lo and $hi");
	like($compat, qr/PostgreSQL $major\b/, "compat.h names PostgreSQL ${major}'s change");
}

# The support table: each file that has it; the rows that say "built and
# tested" are debian/pgversions, no more and no less.
my @tables;
for my $file ('doc/MAIN-README-SUPPORT.md', 'README.md')
{
	next unless -f "$top/$file";
	my @rows = slurp($file) =~ /^\| PostgreSQL \| Debian \|.*\n\|[- |]+\|\n((?:\|.*\n)+)/m;
	push @tables, [ $file, $rows[0] ] if @rows;
}
ok(@tables, 'a support table is there (' . join(', ', map { $_->[0] } @tables) . ')');
for my $t (@tables)
{
	my ($file, $rows) = @$t;
	my @tested = map { /^\| (\d+) \|[^|]*\| built and tested \|/ ? $1 : () } split /\n/, $rows;
	is(join(' ', @tested), join(' ', @packaged),
		"$file: the versions built and tested are debian/pgversions'");
	my $next = $hi + 1;
	like($rows, qr/^\| $next and later \|.*not supported/m,
		"$file: $next and later are said not to be supported");
}

# The extension's version: what CREATE EXTENSION installs (idsess.control)
# is what the distribution and the package are named for.
my ($default) = slurp('idsess.control') =~ /^default_version = '(\d+\.\d+)'/m;
ok(defined $default, "idsess.control's default_version is a major.minor");
my $meta = JSON::PP::decode_json(slurp('META.json'));
like($_, qr/^\Q$default\E\.\d+$/, "META.json's version $_ is default_version ${default}'s")
  for ($meta->{version}, $meta->{provides}{idsess}{version});
my ($deb) = slurp('debian/changelog') =~ /^idsess \(([^)]+)\)/;
like($deb, qr/^\Q$default\E\.\d+(~[a-z0-9.]+)?(-\d+)?$/,
	"debian/changelog's latest version $deb is default_version ${default}'s");

# The server the suite runs on.
my ($stdout) = run_command([ 'postgres', '--version' ]);
my ($running) = $stdout =~ /\(PostgreSQL\) (\d+)/;
ok((grep { $_ == $running } @packaged),
	"this suite's PostgreSQL ($running) is in debian/pgversions");

done_testing();

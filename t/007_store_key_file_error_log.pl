# A key-file error (58P01: the master key file is missing) raised by
# idsess_create or idsess_update, whose arguments include the ticket, does
# not log the statement text: the server log has the error, not the ticket.
# Control: an ordinary failing statement is logged with its text.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

# The test framework logs every statement; only errors may log one here.
my ($node, $keyfile) = idsess_node('key_file_log', conf => "log_statement = 'none'\n");
$node->safe_psql('postgres', 'CREATE EXTENSION idsess CASCADE');
$node->safe_psql('postgres', q{SELECT idsess_create('u', 't', key => 'k')});
# New backends read the key file again: now it is gone.
unlink($keyfile) or die "could not remove $keyfile: $!";

my ($rc, $out, $err) = $node->psql('postgres', q{
SELECT idsess_update('k', 'TICKETMARK-5d1 update');
SELECT idsess_create('u', 'TICKETMARK-5d1 create');
SELECT 'LOGCONTROL-5d1' || 1/0;
}, on_error_stop => 0);
is(() = $err =~ /could not open the idsess master key file/g, 2,
	'update and create fail on the missing key file');
ok($node->wait_for_log(qr/LOGCONTROL-5d1/), 'the control statement is logged');
my $log = slurp_file($node->logfile);
like($log, qr/ERROR:  could not open/, 'the key-file error is logged');
unlike($log, qr/TICKETMARK-5d1/, 'the statements with the ticket are not');

$node->stop;
done_testing();

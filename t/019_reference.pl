# doc/reference.md against the code, in both directions: every function of
# the extension (signature, argument names, defaults, result, the idsess roles
# granted it), every composite type and view (columns and their types), every
# setting (name, default, context) and every SQLSTATE the C sources and SQL
# scripts raise.  The catalog is a fresh CREATE EXTENSION idsess on a server
# that preloads it; the installed copy of doc/ must be the tree's.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Compare;
use FindBin;
use lib $FindBin::RealBin;
use IdsessTest;

my $root = "$FindBin::RealBin/..";
my $reference = $ENV{IDSESS_REFERENCE} // "$root/doc/reference.md";

my $tempdir = PostgreSQL::Test::Utils::tempdir();
my $keyfile = "$tempdir/idsess.key";
write_master_key($keyfile);
my $node = idsess_node('reference', keyfile => $keyfile);
$node->safe_psql('postgres', 'CREATE EXTENSION idsess CASCADE');

# Rows of a query, fields split on the unit separator.
sub rows
{
	my ($sql) = @_;
	my $out = $node->safe_psql('postgres', $sql, extra_params => [ '-F', "\x1f" ]);
	return map { [ split /\x1f/, $_, -1 ] } grep { length } split /\n/, $out;
}

sub quote { my ($s) = @_; $s =~ s/'/''/g; return "'$s'"; }

# --- reading the reference -------------------------------------------------
open(my $fh, '<', $reference) or die "$reference: $!";
my @lines = <$fh>;
close($fh);
chomp @lines;

my (%doc_fn, %doc_rel, %doc_set, %doc_state, @types_used);
my ($section, $subsection, $in_fence, @block) = ('', '', 0);
for (my $i = 0; $i < @lines; $i++)
{
	my $l = $lines[$i];
	if ($l =~ /^```/)
	{
		if (!$in_fence) { $in_fence = 1; @block = (); next; }
		$in_fence = 0;
		my $sig = join(' ', map { s/^\s+|\s+$//gr } @block);
		next unless $sig =~ /^((?:idsess\.)?idsess_\w+|idsess\.\w+)\((.*)\)\s+RETURNS\s+(.+)$/;
		my ($name, $args, $ret) = ($1, $2, $3);
		# The grant line follows the block.
		my $granted = '';
		for (my $j = $i + 1; $j < @lines && $j <= $i + 2; $j++)
		{
			$granted = $1 if $lines[$j] =~ /^Granted to: (.*)\.$/;
		}
		fail("$name is documented twice") if $doc_fn{$name};
		$doc_fn{$name} = { args => $args, ret => $ret,
			granted => join(',', sort map { s/`//gr } split /,\s*/, $granted) };
		next;
	}
	if ($in_fence) { push @block, $l; next; }
	if ($l =~ /^## (.*)/) { $section = $1; $subsection = ''; next; }
	if ($l =~ /^### (.*)/) { $subsection = $1; next; }
	next unless $l =~ /^\|/;
	my @cells = map { s/^\s+|\s+$//gr } split /\|/, $l;
	shift @cells;
	my ($first) = $cells[0] =~ /^`?([\w.]+)`?$/;
	next unless defined $first;
	if (($section eq 'Types' || $section eq 'Views') && $subsection =~ /^idsess\.\w+$/
		&& $first =~ /^\w+$/ && $first ne 'column')
	{
		push @{ $doc_rel{$subsection} }, "$first $cells[1]";
		push @types_used, $cells[1];
	}
	elsif ($section eq 'Settings' && $first =~ /^idsess\.\w+$/)
	{
		my $default = $cells[1] eq '(empty)' ? '' : $cells[1] =~ s/`//gr;
		$doc_set{$first} = { default => $default, context => $cells[2] };
	}
	elsif ($section eq 'SQLSTATEs' && $subsection eq 'Raised by idsess'
		&& $first =~ /^[0-9A-Z]{5}$/)
	{
		$doc_state{$first} = $cells[1];
	}
}

# Splits "a text DEFAULT x, b int" on the commas outside quotes and parens.
sub split_list
{
	my ($s) = @_;
	my @parts;
	my ($cur, $depth, $quoted) = ('', 0, 0);
	for my $c (split //, $s)
	{
		$quoted = !$quoted if $c eq "'";
		$depth++ if !$quoted && $c eq '(';
		$depth-- if !$quoted && $c eq ')';
		if ($c eq ',' && !$quoted && $depth == 0) { push @parts, $cur; $cur = ''; next; }
		$cur .= $c;
	}
	push @parts, $cur if $cur =~ /\S/;
	return map { s/^\s+|\s+$//gr } @parts;
}

# A documented argument or column: name, type, default.
sub parse_arg
{
	my ($a) = @_;
	my ($name, $type, $default) = $a =~ /^(\w+)\s+(.+?)(?:\s+DEFAULT\s+(.+))?$/
	  or return ($a, '?', undef);
	push @types_used, $type;
	return ($name, $type, $default);
}

for my $f (values %doc_fn)
{
	$f->{in} = [ map { [ parse_arg($_) ] } split_list($f->{args}) ];
	my $r = $f->{ret};
	if ($r =~ /^(TABLE|SETOF|)\s*\((.*)\)$/)
	{
		$f->{kind} = $1 || 'ROW';
		$f->{out} = [ map { [ parse_arg($_) ] } split_list($2) ];
	}
	elsif ($r =~ /^(SETOF\s+)?(.+)$/)
	{
		$f->{kind} = $1 ? 'SETOF' : 'ONE';
		$f->{type} = $2;
		push @types_used, $2;
	}
}

ok(scalar(keys %doc_fn) >= 30, 'the reference documents ' . scalar(keys %doc_fn) . ' functions');

# The documented type names, as format_type names them.
my %canon;
for my $t (keys %{ { map { $_ => 1 } @types_used } })
{
	my ($c) = map { $_->[0] } rows('SELECT pg_catalog.format_type(pg_catalog.to_regtype('
		  . quote($t) . '), NULL)');
	$canon{$t} = $c eq '' ? "unknown type $t" : $c;
}
sub canon { my ($t) = @_; return defined $t ? $canon{$t} // $t : undef; }

# --- functions ---------------------------------------------------------------
my %cat_fn;
for my $r (rows(q{
	SELECT p.oid,
	       CASE WHEN p.pronamespace = e.extnamespace THEN '' ELSE p.pronamespace::regnamespace || '.' END
	         || p.proname,
	       p.proretset, pg_catalog.format_type(p.prorettype, NULL),
	       coalesce((SELECT pg_catalog.string_agg(r.rolname, ',' ORDER BY r.rolname)
	                 FROM pg_catalog.aclexplode(p.proacl) a
	                 JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
	                 WHERE r.rolname IN ('idsess_service', 'idsess_admin', 'idsess_reporting',
	                                     'idsess_tenant_admin')), '')
	FROM pg_catalog.pg_proc p
	JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
	     AND d.objid = p.oid AND d.deptype = 'e'
	JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'idsess'}))
{
	my ($oid, $name, $retset, $rettype, $granted) = @$r;
	my (@in, @out, $table);
	for my $a (rows(qq{
		SELECT coalesce(p.proargmodes[a.n], 'i'), p.proargnames[a.n],
		       pg_catalog.format_type(a.t, NULL), pg_catalog.pg_get_function_arg_default(p.oid, a.n::int)
		FROM pg_catalog.pg_proc p,
		     unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY a(t, n)
		WHERE p.oid = $oid ORDER BY a.n}))
	{
		my ($mode, $aname, $type, $default) = @$a;
		if ($mode =~ /[iv]/ || $mode eq 'b')
		{
			# Casts and the parentheses around an expression are PostgreSQL's spelling.
			if ($default ne '')
			{
				$default =~ s/::[a-z][a-z ]*(\[\])?//g;
				$default =~ s/^\((.*)\)$/$1/;
			}
			push @in, [ $aname, $type, $default eq '' ? undef : $default ];
		}
		push @out, [ $aname, $type, undef ] if $mode =~ /[obt]/;
		$table = 1 if $mode eq 't';
	}
	$cat_fn{$name} = { in => \@in, out => \@out, granted => $granted,
		kind => $table ? 'TABLE' : @out ? ($retset eq 't' ? 'SETOF' : 'ROW')
		  : ($retset eq 't' ? 'SETOF' : 'ONE'),
		type => @out ? undef : $rettype };
}

sub show_args
{
	my ($list, $canonical) = @_;
	return join(', ', map {
		my ($n, $t, $d) = @$_;
		"$n " . ($canonical ? canon($t) : $t) . (defined $d ? " DEFAULT $d" : '')
	} @$list);
}

for my $name (sort keys %cat_fn)
{
	my ($c, $d) = ($cat_fn{$name}, $doc_fn{$name});
	if (!$d) { fail("function $name is in the catalog but not in the reference"); next; }
	is(show_args($d->{in}, 1), show_args($c->{in}, 0), "$name: arguments, types and defaults");
	is($d->{kind}, $c->{kind}, "$name: result kind");
	if ($c->{out} && @{ $c->{out} })
	{
		is(show_args($d->{out} // [], 1), show_args($c->{out}, 0), "$name: result columns");
	}
	else
	{
		is(canon($d->{type}), $c->{type}, "$name: result type");
	}
	is($d->{granted}, $c->{granted}, "$name: granted to");
}
for my $name (sort keys %doc_fn)
{
	fail("function $name is in the reference but not in the catalog") unless $cat_fn{$name};
}

# --- types and views ---------------------------------------------------------
my %cat_rel;
for my $r (rows(q{
	SELECT c.oid::pg_catalog.regclass, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
	FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE c.relnamespace = 'idsess'::pg_catalog.regnamespace AND c.relkind IN ('v', 'c')
	ORDER BY c.oid, a.attnum}))
{
	push @{ $cat_rel{ $r->[0] } }, "$r->[1] $r->[2]";
}
for my $rel (sort keys %cat_rel)
{
	if (!$doc_rel{$rel}) { fail("$rel is in the catalog but not in the reference"); next; }
	my @doc = map { my ($n, $t) = /^(\w+) (.+)$/; "$n " . canon($t) } @{ $doc_rel{$rel} };
	is(join(', ', @doc), join(', ', @{ $cat_rel{$rel} }), "$rel: columns and types");
}
for my $rel (sort keys %doc_rel)
{
	fail("$rel is in the reference but is no view or type of idsess") unless $cat_rel{$rel};
}

# --- settings ------------------------------------------------------------------
my %unit = (kB => 1, MB => 1024, GB => 1024 * 1024, '8kB' => 8,
	ms => 1, s => 1000, min => 60_000, h => 3_600_000, d => 86_400_000);
my %cat_set;
$cat_set{ $_->[0] } = { boot => $_->[1], unit => $_->[2], context => $_->[3], type => $_->[4] }
  for rows(q{SELECT name, boot_val, coalesce(unit, ''), context, vartype
             FROM pg_catalog.pg_settings WHERE name LIKE 'idsess.%'});
ok(scalar(keys %cat_set) > 10, 'the server has ' . scalar(keys %cat_set) . ' idsess settings');
for my $name (sort keys %cat_set)
{
	my ($c, $d) = ($cat_set{$name}, $doc_set{$name});
	if (!$d) { fail("setting $name is in pg_settings but not in the reference"); next; }
	my $default = $d->{default};
	# A documented "4MB" or "90d" in the setting's own unit.
	if ($c->{type} eq 'integer' && $default =~ /^(\d+)\s*([a-zA-Z]*)$/ && $2 ne '')
	{
		$default = defined $unit{$2} && $unit{ $c->{unit} }
		  ? $1 * $unit{$2} / $unit{ $c->{unit} } : "$default (unknown unit)";
	}
	is($default, $c->{boot}, "$name: default");
	is($d->{context}, $c->{context}, "$name: context");
}
for my $name (sort keys %doc_set)
{
	fail("setting $name is in the reference but not in pg_settings") unless $cat_set{$name};
}

# --- SQLSTATEs -------------------------------------------------------------------
my $errcodes_h = `pg_config --includedir-server` =~ s/\s+$//r . '/utils/errcodes.h';
my %macro;
for my $file ($errcodes_h, glob("$root/src/*.h"))
{
	open(my $h, '<', $file) or die "$file: $!";
	while (<$h>)
	{
		$macro{$1} = join('', $2, $3, $4, $5, $6)
		  if /#define\s+(\w+)\s+MAKE_SQLSTATE\('(.)',\s*'(.)',\s*'(.)',\s*'(.)',\s*'(.)'\)/;
	}
	close($h);
}
my (%code_state, @names);
for my $file (glob("$root/src/*.c"))
{
	my $text = slurp_file($file);
	while ($text =~ /\berrcode\((\w+)\)/g)
	{
		my $code = $macro{$1} // "unknown macro $1";
		push @{ $code_state{$code} }, $file =~ s{.*/}{}r;
	}
	# The file errors of the master key file: missing, not permitted, other.
	if ($text =~ /errcode_for_file_access\(\)/)
	{
		push @{ $code_state{$_} }, $file =~ s{.*/}{}r for qw(58P01 42501 58030);
	}
}
for my $file (glob("$root/idsess--*.sql"))
{
	my $text = slurp_file($file);
	my $base = $file =~ s{.*/}{}r;
	while ($text =~ /\bRAISE\s+EXCEPTION\b(.*?);/sg)
	{
		my $stmt = $1;
		if ($stmt =~ /ERRCODE\s*=\s*'([^']+)'/) { push @names, [ "$1", $base ]; }
		else { push @{ $code_state{P0001} }, $base; }
	}
}

# Condition names as PL/pgSQL resolves them.
$node->safe_psql('postgres', q{
	CREATE FUNCTION public.sqlstate_of(condition text) RETURNS text LANGUAGE plpgsql AS $$
	BEGIN
		RAISE EXCEPTION USING ERRCODE = condition;
	EXCEPTION WHEN OTHERS THEN
		RETURN SQLSTATE;
	END $$});
sub sqlstate_of
{
	my ($condition) = @_;
	return $condition if $condition =~ /^[0-9A-Z]{5}$/;
	return $node->safe_psql('postgres', 'SELECT public.sqlstate_of(' . quote($condition) . ')');
}
push @{ $code_state{ sqlstate_of($_->[0]) } }, $_->[1] for @names;

ok(scalar(keys %code_state) > 10, 'the code raises ' . scalar(keys %code_state) . ' SQLSTATEs');
for my $code (sort keys %code_state)
{
	ok($doc_state{$code}, "SQLSTATE $code (raised in @{[ join(', ', sort keys %{ { map { $_ => 1 } @{ $code_state{$code} } } }) ]}) is in the reference");
}
for my $code (sort keys %doc_state)
{
	ok($code_state{$code}, "SQLSTATE $code in the reference is raised by the code");
	next if $code eq 'ISRVK';
	is(sqlstate_of($doc_state{$code}), $code, "SQLSTATE $code is the condition $doc_state{$code}");
}

# --- the installed copy ------------------------------------------------------------
my $docdir = `pg_config --docdir` =~ s/\s+$//r . '/extension/idsess';
for my $doc (glob("$root/doc/*.md"))
{
	my $base = $doc =~ s{.*/}{}r;
	my $installed = "$docdir/$base";
	# A Debian package compresses its documents.
	if (!-e $installed && -e "$installed.gz")
	{
		$installed = "$tempdir/$base";
		system("gzip -dc '$docdir/$base.gz' > '$installed'") == 0 or die "gzip: $?";
	}
	is(compare($doc, $installed), 0, "doc/$base is installed in $docdir");
}

$node->stop;
done_testing();

# Every relative link in the README, the documents in doc/, the CHANGELOG,
# SECURITY.md, BENCHMARKS.md and bench/analysis.md resolves: the file or
# folder exists, and an #anchor names a heading of the target (as GitHub
# makes anchors from headings) or an explicit <a id>.  Links inside code are
# not links.  IDSESS_LINK_FILES replaces the list, for checking the checker.
use strict;
use warnings;
use Test::More;
use FindBin;
use File::Basename qw(dirname);
use File::Spec;

my $root = File::Spec->rel2abs("$FindBin::RealBin/..");
my @files = $ENV{IDSESS_LINK_FILES}
  ? split(/:/, $ENV{IDSESS_LINK_FILES})
  : ((map { "$root/$_" } qw(README.md CHANGELOG.md SECURITY.md BENCHMARKS.md bench/analysis.md)),
	glob("$root/doc/*.md"));

my %anchors_of;

# The text of a Markdown file with fenced code blocks blanked.
sub prose
{
	my ($file) = @_;
	open(my $fh, '<', $file) or die "$file: $!";
	my ($fence, @out) = (0);
	while (my $l = <$fh>)
	{
		if ($l =~ /^\s*(```|~~~)/) { $fence = !$fence; push @out, "\n"; next; }
		push @out, $fence ? "\n" : $l;
	}
	close($fh);
	return @out;
}

# GitHub's anchors: the heading's text lower-cased, without markup and
# punctuation other than - and _, spaces as hyphens; a repeated one gets -1, -2.
sub anchors
{
	my ($file) = @_;
	return $anchors_of{$file} if $anchors_of{$file};
	my (%seen, %anchors);
	for my $l (prose($file))
	{
		$anchors{$1} = 1 while $l =~ /<a\s+(?:id|name)="([^"]+)"/g;
		next unless $l =~ /^#{1,6}\s+(.*?)\s*#*\s*$/;
		my $text = $1;
		$text =~ s/\[([^\]]*)\]\([^)]*\)/$1/g;
		$text =~ s/<[^>]+>//g;
		my $a = lc $text;
		$a =~ s/[^\p{L}\p{N}\- _]//g;
		$a =~ tr/ /-/;
		my $n = $seen{$a}++;
		$anchors{ $n ? "$a-$n" : $a } = 1;
	}
	return $anchors_of{$file} = \%anchors;
}

my $links = 0;
for my $file (@files)
{
	ok(-f $file, "$file exists") or next;
	my $name = File::Spec->abs2rel($file, $root);
	my $line = 0;
	for my $l (prose($file))
	{
		$line++;
		(my $text = $l) =~ s/`[^`]*`//g;
		while ($text =~ /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)
		{
			my $target = $1;
			next if $target =~ m{^[a-z][a-z0-9+.-]*:}i;    # http:, mailto:
			$links++;
			my ($path, $anchor) = $target =~ /^([^#]*)(?:#(.*))?$/;
			my $dest = $path eq '' ? $file : File::Spec->rel2abs($path, dirname($file));
			if (!-e $dest)
			{
				fail("$name:$line: $target: no such file");
				next;
			}
			next unless defined $anchor;
			if (-d $dest || $dest !~ /\.md$/)
			{
				fail("$name:$line: $target: an anchor into a file that is not Markdown");
				next;
			}
			ok(anchors($dest)->{$anchor}, "$name:$line: $target");
		}
	}
}
ok($links > 50, "$links relative links checked");

done_testing();

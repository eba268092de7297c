# The library holds no static C++ object that needs constructing: such an object runs code when
# PostgreSQL loads the library (before _PG_init, outside any error handling) and registers a
# destructor that runs at process exit. Compilers name the constructor functions they generate
# _GLOBAL__sub_I_<file>; the installed library must have none.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;

my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
my $library = "$pkglibdir/electric_shapes.so";
ok(-f $library, 'the library is installed');
my $symbols = `nm $library`;
is($?, 0, 'nm reads the library');
ok($symbols =~ /\b_PG_init\b/, 'its symbols are there (not stripped)');
my @initializers = $symbols =~ /\b(_GLOBAL__sub_I_\S+)/g;
is_deeply(\@initializers, [], 'no static initializers');

done_testing();

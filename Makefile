# electric_shapes: one shared library that is at once the extension (SQL API), the logical
# decoding output plugin and the preloaded statistics module. Built with PGXS as C++17.

EXTENSION = electric_shapes
MODULE_big = electric_shapes
DATA = sql/electric_shapes--0.3.0.sql sql/electric_shapes--0.1.0--0.2.0.sql sql/electric_shapes--0.2.0--0.3.0.sql
PGFILEDESC = "electric_shapes - shape-filtered logical decoding as JSON"

# Pure C++ pieces: no PostgreSQL headers, unit-tested on their own.
PURE_SRCS = $(sort $(wildcard src/pure/*.cpp))
PG_SRCS = $(sort $(wildcard src/*.cpp))
OBJS = $(PG_SRCS:.cpp=.o) $(PURE_SRCS:.cpp=.o)

# Regression tests: sql/<name>.sql against expected/<name>.out, on a temporary instance whose
# settings (wal_level=logical, output_plugin_libraries, preload) come from test/regress.conf.
REGRESS = $(shell sed -n 's/^test: //p' $(srcdir)/test/schedule)
REGRESS_OPTS = --temp-instance=$(abs_builddir)/tmp_check --temp-config=$(srcdir)/test/regress.conf

PG_CPPFLAGS = -I$(srcdir)/include
# -MMD: objects are rebuilt when a header they include changes. Frame pointers, as Debian builds
# the server's C code, so that profilers can walk the stack through the plugin's frames.
PG_CXXFLAGS = -std=c++17 -fno-omit-frame-pointer -Wall -Wno-register -Wno-unused-parameter -Wno-missing-field-initializers -MMD -MP
ifdef WERROR
PG_CXXFLAGS += -Werror
endif
SHLIB_LINK += -lstdc++ -lcrypto

# Debian's server is built with LLVM; its bitcode step would compile our C++ with clang and
# without PG_CXXFLAGS. The library is not inlined by the JIT, so we skip bitcode altogether.
override with_llvm = no

EXTRA_CLEAN = tmp_check tmp_install test/unit/unit_tests test/unit/obj results regression.diffs regression.out log \
	$(OBJS:.o=.d) electric-shapes-sync sync/obj

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

-include $(OBJS:.o=.d)

# The sync service electric-shapes-sync (SPEC section 8): a program, not part of the library,
# built from sync/ and linked with the same src/pure sources as the library (never copies of
# them). Its objects live in sync/obj, apart from the library's -fPIC objects. Its pure parts
# (no Boost, no libpq: configuration, offsets, request parsing) are unit-tested too.
SYNC_SRCS = $(sort $(wildcard sync/*.cpp))
SYNC_PURE_SRCS = $(sort $(wildcard sync/pure/*.cpp))
SYNC_CXXFLAGS = -std=c++17 -O2 -g -fno-omit-frame-pointer -Wall -Wno-unused-parameter -I$(srcdir)/include \
	-I$(srcdir) -I$(shell $(PG_CONFIG) --includedir) -DBOOST_ASIO_NO_DEPRECATED -MMD -MP
ifdef WERROR
SYNC_CXXFLAGS += -Werror
endif
SYNC_OBJS = $(patsubst sync/%.cpp,sync/obj/%.o,$(SYNC_SRCS)) \
	$(patsubst sync/pure/%.cpp,sync/obj/pure_%.o,$(SYNC_PURE_SRCS)) \
	$(patsubst src/pure/%.cpp,sync/obj/es_pure_%.o,$(PURE_SRCS))
sync/obj/%.o: sync/%.cpp
	@mkdir -p sync/obj
	$(CXX) $(SYNC_CXXFLAGS) -c $< -o $@
sync/obj/pure_%.o: sync/pure/%.cpp
	@mkdir -p sync/obj
	$(CXX) $(SYNC_CXXFLAGS) -c $< -o $@
sync/obj/es_pure_%.o: src/pure/%.cpp
	@mkdir -p sync/obj
	$(CXX) $(SYNC_CXXFLAGS) -c $< -o $@
electric-shapes-sync: $(SYNC_OBJS)
	$(CXX) $(SYNC_OBJS) -o $@ -L$(shell $(PG_CONFIG) --libdir) -lpq -lcrypto -lpthread
-include $(SYNC_OBJS:.o=.d)

all: electric-shapes-sync
install: install-sync
install-sync: electric-shapes-sync
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) electric-shapes-sync '$(DESTDIR)$(bindir)/electric-shapes-sync'
uninstall: uninstall-sync
uninstall-sync:
	rm -f '$(DESTDIR)$(bindir)/electric-shapes-sync'
.PHONY: install-sync uninstall-sync

# Unit tests of the pure C++ pieces, with GoogleTest. Objects are compiled one by one (into
# test/unit/obj), so a changed test or piece recompiles only itself.
UNIT_SRCS = $(sort $(wildcard test/unit/*.cpp))
UNIT_CXXFLAGS = -std=c++17 -O1 -g -Wall -Werror -I$(srcdir)/include -I$(srcdir) -MMD -MP
UNIT_TEST_OBJS = $(patsubst test/unit/%.cpp,test/unit/obj/%.o,$(UNIT_SRCS))
UNIT_PURE_OBJS = $(patsubst src/pure/%.cpp,test/unit/obj/pure_%.o,$(PURE_SRCS))
UNIT_SYNC_OBJS = $(patsubst sync/pure/%.cpp,test/unit/obj/sync_%.o,$(SYNC_PURE_SRCS))
# The shape log is not pure (files, a thread pool) but is tested on its own too: what a response
# is read from.
UNIT_SYNC_FILE_OBJS = test/unit/obj/sync_file_shape_log.o
UNIT_OBJS = $(UNIT_TEST_OBJS) $(UNIT_PURE_OBJS) $(UNIT_SYNC_OBJS) $(UNIT_SYNC_FILE_OBJS)
$(UNIT_TEST_OBJS): test/unit/obj/%.o: test/unit/%.cpp
	@mkdir -p test/unit/obj
	$(CXX) $(UNIT_CXXFLAGS) -c $< -o $@
$(UNIT_PURE_OBJS): test/unit/obj/pure_%.o: src/pure/%.cpp
	@mkdir -p test/unit/obj
	$(CXX) $(UNIT_CXXFLAGS) -c $< -o $@
$(UNIT_SYNC_OBJS): test/unit/obj/sync_%.o: sync/pure/%.cpp
	@mkdir -p test/unit/obj
	$(CXX) $(UNIT_CXXFLAGS) -I$(srcdir) -c $< -o $@
$(UNIT_SYNC_FILE_OBJS): test/unit/obj/sync_file_%.o: sync/%.cpp
	@mkdir -p test/unit/obj
	$(CXX) $(UNIT_CXXFLAGS) -DBOOST_ASIO_NO_DEPRECATED -c $< -o $@
test/unit/unit_tests: $(UNIT_OBJS)
	$(CXX) $(UNIT_OBJS) -o $@ -lgtest -lgtest_main -lpthread -lcrypto
-include $(UNIT_OBJS:.o=.d)

unit: test/unit/unit_tests
.PHONY: unit

# libFuzzer targets of the pure C++ pieces (test/fuzz/<name>_fuzzer.cpp), run by test/run for a
# bounded time each. Built with clang-14 and address and undefined behaviour sanitizers.
FUZZ_CXX ?= clang++-14
FUZZ_FLAGS = -std=c++17 -O1 -g -Wall -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -I$(srcdir)/include
FUZZ_TARGETS = $(patsubst %.cpp,%,$(sort $(wildcard test/fuzz/*_fuzzer.cpp)))
FUZZ_OBJS = $(patsubst src/pure/%.cpp,test/fuzz/obj/%.o,$(PURE_SRCS)) \
	$(patsubst sync/pure/%.cpp,test/fuzz/obj/sync_%.o,$(SYNC_PURE_SRCS))
test/fuzz/obj/%.o: src/pure/%.cpp $(wildcard include/electric_shapes/pure/*.hpp)
	@mkdir -p test/fuzz/obj
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
test/fuzz/obj/sync_%.o: sync/pure/%.cpp $(wildcard sync/pure/*.hpp) $(wildcard include/electric_shapes/pure/*.hpp)
	@mkdir -p test/fuzz/obj
	$(FUZZ_CXX) $(FUZZ_FLAGS) -I$(srcdir) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_TARGETS): test/fuzz/%: test/fuzz/%.cpp $(FUZZ_OBJS)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -I$(srcdir) -fsanitize=fuzzer $< $(FUZZ_OBJS) -o $@ -lcrypto

fuzz: $(FUZZ_TARGETS)
.PHONY: fuzz
EXTRA_CLEAN += $(FUZZ_TARGETS) test/fuzz/obj

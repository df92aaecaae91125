# onebox build. `make` builds every binary into build/bin; `make test` builds
# the same sources with ASan+UBSan into build/asan and runs every test.
#
# Conventions (so a new file needs no Makefile edit):
#   shared/*.c              -> libonebox (linked by everything)
#   api/*.c, sync/*.c, realtime/*.c
#                           -> one process each; <dir>/main.c holds main()
#   api/cli/*.c             -> the `onebox` CLI (cli/main.c holds main())
#   <dir>/build.mk          -> that process's libraries: <dir>_LIBS
#   tests/unit/<p>/test_*.c -> one CUnit binary each, linked with libonebox
#                              and process <p>'s objects (minus main.c)
#   tests/tools/*.c         -> helper programs for integration tests/bench
#   tests/integration/*.sh  -> run in name order by `make test`

CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=
# OPENSSL_NO_DEPRECATED would hide types libwebsockets.h still names (RSA);
# deprecated calls stay errors through -Werror=deprecated-declarations.
CSTD     = -std=c11 -D_GNU_SOURCE -DOPENSSL_API_COMPAT=30000 -Werror=deprecated-declarations
WARN     = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
DEPFLAGS = -MMD -MP
INC      = -Ishared

PKGS        = jansson sqlite3 libcrypto
BASE_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
BASE_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

api_LIBS      =
sync_LIBS     =
realtime_LIBS =
cli_LIBS      =
include $(wildcard api/build.mk sync/build.mk realtime/build.mk api/cli/build.mk)

PROCS = api sync realtime
BIN_api = onebox-api
BIN_sync = onebox-syncd
BIN_realtime = onebox-realtime

SHARED_SRC = $(wildcard shared/*.c)
proc_src   = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
CLI_SRC    = $(filter-out api/cli/main.c,$(wildcard api/cli/*.c))
ALL_LIBS   = $(sort $(api_LIBS) $(sync_LIBS) $(realtime_LIBS) $(cli_LIBS))

B = build
A = build/asan

.PHONY: all deps test unit integration run install uninstall clean bench valgrind help
all: $(B)/bin/onebox-api $(B)/bin/onebox-syncd $(B)/bin/onebox-realtime $(B)/bin/onebox

help:
	@echo "make deps | make | make run | make test | make bench | make install PREFIX=.. DESTDIR=.."

deps:
	@sh contrib/install-deps.sh

# --- object rules (normal and sanitizer builds) ---------------------------
$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(DEPFLAGS) $(INC) $(BASE_CFLAGS) -c $< -o $@
$(A)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SANFLAGS) $(DEPFLAGS) $(INC) $(BASE_CFLAGS) -c $< -o $@

objs = $(patsubst %.c,$(1)/obj/%.o,$(2))

define proc_rules
$(B)/bin/$(BIN_$(1)): $(call objs,$(B),$(1)/main.c $(call proc_src,$(1)) $(SHARED_SRC))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -o $$@ $$^ $$($(1)_LIBS) $$(BASE_LIBS)
$(A)/bin/$(BIN_$(1)): $(call objs,$(A),$(1)/main.c $(call proc_src,$(1)) $(SHARED_SRC))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(SANFLAGS) -o $$@ $$^ $$($(1)_LIBS) $$(BASE_LIBS)
endef
$(foreach p,$(PROCS),$(eval $(call proc_rules,$(p))))

$(B)/bin/onebox: $(call objs,$(B),api/cli/main.c $(CLI_SRC) $(SHARED_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(cli_LIBS) $(BASE_LIBS)
$(A)/bin/onebox: $(call objs,$(A),api/cli/main.c $(CLI_SRC) $(SHARED_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(cli_LIBS) $(BASE_LIBS)

# --- tests -----------------------------------------------------------------
UNIT_SHARED = $(patsubst tests/unit/shared/%.c,$(A)/test/shared/%,$(wildcard tests/unit/shared/test_*.c))
UNIT_PROC   = $(foreach p,$(PROCS),$(patsubst tests/unit/$(p)/%.c,$(A)/test/$(p)/%,$(wildcard tests/unit/$(p)/test_*.c)))
UNIT_CLI    = $(patsubst tests/unit/cli/%.c,$(A)/test/cli/%,$(wildcard tests/unit/cli/test_*.c))
UNIT_BINS   = $(UNIT_SHARED) $(UNIT_PROC) $(UNIT_CLI)
TOOLS       = $(patsubst tests/tools/%.c,$(A)/tools/%,$(wildcard tests/tools/*.c))

$(A)/test/shared/%: $(A)/obj/tests/unit/shared/%.o $(call objs,$(A),$(SHARED_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ -lcunit $(BASE_LIBS)
define unit_rules
$(A)/test/$(1)/%: $(A)/obj/tests/unit/$(1)/%.o $(call objs,$(A),$(call proc_src,$(1)) $(SHARED_SRC))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(SANFLAGS) -o $$@ $$^ -lcunit $$($(1)_LIBS) $$(BASE_LIBS)
endef
$(foreach p,$(PROCS),$(eval $(call unit_rules,$(p))))
$(A)/test/cli/%: $(A)/obj/tests/unit/cli/%.o $(call objs,$(A),$(CLI_SRC) $(SHARED_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ -lcunit $(cli_LIBS) $(BASE_LIBS)
$(A)/tools/%: $(A)/obj/tests/tools/%.o $(call objs,$(A),$(SHARED_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ -lcunit $(ALL_LIBS) $(BASE_LIBS)

ASAN_BINS = $(A)/bin/onebox-api $(A)/bin/onebox-syncd $(A)/bin/onebox-realtime $(A)/bin/onebox

test: deps-check
	@$(MAKE) --no-print-directory $(UNIT_BINS) $(TOOLS) $(ASAN_BINS) all
	@sh tests/run.sh $(UNIT_BINS)

unit: $(UNIT_BINS)
	@sh tests/run.sh --unit-only $(UNIT_BINS)

deps-check:
	@sh contrib/install-deps.sh --check || $(MAKE) --no-print-directory deps

run: deps-check all
	@sh contrib/run.sh

bench: all
	@sh bench/run.sh

valgrind: all
	@ONLY=95_valgrind sh tests/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/onebox/systemd
	install -m 0755 $(B)/bin/onebox-api $(B)/bin/onebox-syncd $(B)/bin/onebox-realtime $(B)/bin/onebox $(DESTDIR)$(PREFIX)/bin/
	cp -R contrib/www contrib/onebox.js contrib/openapi.yaml $(DESTDIR)$(PREFIX)/share/onebox/
	-cp -R contrib/nginx contrib/lighttpd contrib/apache contrib/categories.rules $(DESTDIR)$(PREFIX)/share/onebox/ 2>/dev/null
	for f in contrib/systemd/*.in contrib/systemd/onebox-common.conf; do \
	    sed 's|@PREFIX@|$(PREFIX)|g' $$f > $(DESTDIR)$(PREFIX)/share/onebox/systemd/$$(basename $$f .in); done
	install -m 0644 contrib/systemd/onebox.target $(DESTDIR)$(PREFIX)/share/onebox/systemd/
	@echo "installed; systemd units are in $(PREFIX)/share/onebox/systemd (copy them to /etc/systemd/system)"

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,onebox-api onebox-syncd onebox-realtime onebox)
	rm -rf $(DESTDIR)$(PREFIX)/share/onebox

clean:
	rm -rf build

.PHONY: deps-check
-include $(shell find build -name '*.d' 2>/dev/null)

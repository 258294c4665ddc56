# sizekit.mk: binary-size targets for a firmware Makefile.
#
#   include path/to/sizekit/make/sizekit.mk
#
#   make sizes         build, shrink and measure every cell of $(SIZEKIT_MATRIX) (doit, incremental)
#   make size-check    sizes, then fail when a crate is over its budget (`sizekit check`)
#   make size-report   sizes, then print the markdown report of each crate
#   make size-snapshot sizes, then a snapshot of them (and of $(SIZEKIT_FILES)) for `sizekit diff`
#
# Override on the command line or before the include, e.g.
#   make size-check SIZEKIT_MATRIX=matrix-tight.yaml SIZEKIT_DOIT_ARGS="-n 2"
#   make sizes SIZEKIT_SHARD=2/4     (this machine builds shard 2 of 4)
# No dodo.py is needed: `sizekit run` drives doit itself.

PYTHON ?= python3
SIZEKIT ?= $(PYTHON) -m sizekit
SIZEKIT_MATRIX ?= matrix.yaml
# Empty means "wherever the matrix's output: puts it" (asked of `sizekit plan MATRIX --get results_json`).
SIZEKIT_RESULTS ?=
SIZEKIT_DOIT_ARGS ?=
# K/N builds only shard K of N (one CI machine of N); merge the shards with `sizekit merge`.
SIZEKIT_SHARD ?=
# size-snapshot: the file it writes (empty: size-snapshot.sksnap.zst in the output folder), and the
# files or folders that are not cells to measure with it, as NAME=PATH (a firmware image, say).
SIZEKIT_SNAPSHOT ?=
SIZEKIT_FILES ?=

.PHONY: sizes size-check size-report size-snapshot

# One cell's final artifact as a file target, for an image or a root file system:
#
#   rootfs/usr/bin/server: $(call sizekit_artifact,hello-hyper,armv7-unknown-linux-gnueabihf,everything-upx)
#   	install -D -m 755 $< $@
#
# It expands to OUT/ship/CRATE/TARGET/VARIANT/FILE, which `sizekit ship` makes: that cell's build and
# post steps only (the same incremental engine as `make sizes`), the copy rewritten only when its
# bytes change. The rules come from a makefile `sizekit plan --make` writes under the output folder,
# remade when the matrix changes; after a build, its depfile lists the sources cargo read, so an
# edit to one of them makes the file out of date (make -q says so). docs/FIRMWARE.md has more.
SIZEKIT_MAKE_RULES := $(shell $(SIZEKIT) plan '$(SIZEKIT_MATRIX)' --get make_rules)
ifneq ($(SIZEKIT_MAKE_RULES),)
$(SIZEKIT_MAKE_RULES): $(SIZEKIT_MATRIX)
	@mkdir -p $(dir $@)
	@$(SIZEKIT) plan '$(SIZEKIT_MATRIX)' --make > $@.tmp && mv $@.tmp $@
-include $(SIZEKIT_MAKE_RULES)
endif
# Unknown (or before the rules are made, when make reads this file the first time): a target whose
# recipe says so, since make expands prerequisites while it reads, before it remakes the rules.
sizekit_artifact = $(or $(SIZEKIT_SHIP_$(1)__$(2)__$(3)),sizekit-no-cell/$(1)/$(2)/$(3))
sizekit-no-cell/%:
	@echo "sizekit_artifact: no cell $* in $(SIZEKIT_MATRIX) (sizekit plan $(SIZEKIT_MATRIX) lists them)" >&2; exit 2

sizes:
	$(strip $(SIZEKIT) run $(SIZEKIT_MATRIX) $(if $(SIZEKIT_SHARD),--shard $(SIZEKIT_SHARD)) $(SIZEKIT_DOIT_ARGS))

size-check: sizes
	$(strip $(SIZEKIT) check --matrix $(SIZEKIT_MATRIX) $(SIZEKIT_RESULTS))

# The shell that sets $results to results.json's path: SIZEKIT_RESULTS, else from `sizekit plan`,
# the plan as data (docs/PLAN.md: --json for all of it).
sizekit_results = results='$(SIZEKIT_RESULTS)'; \
	if [ -z "$$results" ]; then \
		results=$$($(SIZEKIT) plan '$(SIZEKIT_MATRIX)' --get results_json) || exit 2; \
	fi

# `sizekit report` rewrites the reports from results.json and prints their paths.
size-report: sizes
	@$(sizekit_results); \
	files=$$($(SIZEKIT) report "$$results") || exit $$?; \
	for f in $$files; do case "$$f" in *.md) cat "$$f"; echo;; esac; done

# A snapshot of the cells and their symbols, with the bytes of each SIZEKIT_FILES entry, so that
# `sizekit diff OLD NEW` shows an image growing or shrinking beside the cells.
size-snapshot: sizes
	@$(sizekit_results); \
	snapshot='$(SIZEKIT_SNAPSHOT)'; snapshot=$${snapshot:-$$(dirname "$$results")/size-snapshot.sksnap.zst}; \
	$(SIZEKIT) snapshot "$$results" -o "$$snapshot" $(foreach f,$(SIZEKIT_FILES),--file '$(f)') && echo "$$snapshot"

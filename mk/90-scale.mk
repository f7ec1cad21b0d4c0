# Scale: every stage on the real Musical Instruments reviews copied COPIES times (suffixed ids,
# as bench-ingest makes them) and 16 times, the default config, one training epoch, every
# baseline; a table of wall time, peak RSS and rows/s per stage and the growth between the
# two sizes (docs/scaling.md). Minutes to an hour on 2 cores at COPIES=160; not part of `make test`.
#   COPIES       copies of the larger run                    (default 160)
#   SCALE_SMALL  copies of the smaller run                   (default 16)
#   SCALE_LOCK   a file to flock around each stage, so that other jobs taking it never run
#                beside a measured stage                     (default: none)
SCALE_SMALL ?= 16
SCALE_LOCK ?=

.PHONY: bench-scale
bench-scale: $(BIN)/.stamp ## every stage at COPIES (160) and 16 copies of MI: time, peak RSS, rows/s, growth (prints a table)
	python3 scripts/bench_scale.py --bin $(BIN) --small $(SCALE_SMALL) --large $(or $(COPIES),160) \
		$(if $(SCALE_LOCK),--lock $(SCALE_LOCK))

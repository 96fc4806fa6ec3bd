"""kit.log_filters: bitsandbytes' per-matmul cast warning shows once, other messages still show."""

import logging

from kit.log_filters import quiet_int8_cast_warning


def test_the_int8_cast_warning_shows_once_and_the_filter_is_added_once(caplog):
    log = logging.getLogger("bitsandbytes.autograd._functions")
    before = list(log.filters)
    log.filters[:] = []  # an earlier test in the session may have loaded bitsandbytes and added it already
    try:
        quiet_int8_cast_warning()
        quiet_int8_cast_warning()
        assert len(log.filters) == 1
        with caplog.at_level(logging.WARNING, logger=log.name):
            for _ in range(3):
                log.warning("MatMul8bitLt: inputs will be cast from torch.float32 to float16 during quantization")
            log.warning("something else")
        assert [r.getMessage().split(":")[0] for r in caplog.records] == ["MatMul8bitLt", "something else"]
    finally:
        log.filters[:] = before

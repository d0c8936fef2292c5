"""Rule metadata generated from the rule modules by `python -m leakhunter.source.registry --write`. DO NOT EDIT.

registry.py reads it (only while DIGEST matches rule.py and rules/*.py) so that choosing
rules does not import every rule module.
"""

DIGEST = "1da86cf91c4accf97aae2c2fb1ab1ac3"
RULES: tuple[tuple[str, str, str, bool, str], ...] = (
    # (id, name, severity, enabled by default, module)
    ("LH101", "blocked-send", "error", True, "lh101_blocked_send"),
    ("LH102", "blocked-receive", "error", False, "lh102_blocked_receive"),
    ("LH103", "endless-goroutine", "info", True, "lh103_endless_goroutine"),
    ("LH104", "unread-sends", "error", True, "lh104_unread_sends"),
    ("LH105", "sleeping-goroutine", "warning", False, "lh105_sleeping_goroutine"),
    ("LH106", "waitgroup-missing-done", "error", False, "lh106_waitgroup_missing_done"),
    ("LH107", "context-not-propagated", "warning", True, "lh107_context_not_propagated"),
    ("LH108", "field-channel-blocked", "error", False, "lh108_field_channel_blocked"),
    ("LH109", "mutex-not-unlocked", "error", False, "lh109_mutex_not_unlocked"),
    ("LH110", "cond-never-signalled", "error", True, "lh110_cond_never_signalled"),
    ("LH111", "select-exit-never-signalled", "warning", False, "lh111_select_exit_never_signalled"),
    ("LH112", "pool-not-waited", "error", True, "lh112_pool_not_waited"),
    ("LH113", "running-value-replaced", "warning", False, "lh113_running_value_replaced"),
    ("LH201", "lost-cancel", "error", True, "lh201_lost_cancel"),
    ("LH301", "ticker-not-stopped", "warning", True, "lh301_ticker_not_stopped"),
    ("LH302", "time-tick", "warning", True, "lh302_time_tick"),
    ("LH303", "time-after-in-loop", "warning", True, "lh303_time_after_in_loop"),
    ("LH304", "afterfunc-not-stopped", "warning", False, "lh304_afterfunc_not_stopped"),
    ("LH401", "http-body-not-closed", "error", True, "lh401_http_body_not_closed"),
    ("LH402", "sql-rows-not-closed", "error", True, "lh402_sql_rows_not_closed"),
    ("LH403", "sql-tx-no-rollback", "error", True, "lh403_sql_tx_no_rollback"),
    ("LH404", "file-not-closed", "error", True, "lh404_file_not_closed"),
    ("LH405", "defer-in-loop", "info", True, "lh405_defer_in_loop"),
    ("LH501", "unbounded-map", "info", False, "lh501_unbounded_map"),
    ("LH502", "subslice-retention", "warning", False, "lh502_subslice_retention"),
    ("LH503", "pool-misuse", "info", True, "lh503_pool_misuse"),
    ("LH504", "finalizer-cycle", "error", True, "lh504_finalizer_cycle"),
    ("LH505", "goroutine-per-request", "info", True, "lh505_goroutine_per_request"),
)

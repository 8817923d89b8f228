//! Memory figures of a process from Linux's `/proc/<pid>/status`, for the
//! benchmarks that print peak resident memory.

/// A `kB` field of `/proc/<process>/status` (`VmRSS`, `VmHWM`), where
/// `process` is a pid or `self`.
pub fn kb(process: &str, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Sets this process's peak (`VmHWM`) back to its current resident size,
/// so the next reading is the peak of what follows (`clear_refs` value 5).
pub fn reset_own_peak() -> std::io::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5")
}

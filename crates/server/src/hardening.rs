//! Process hardening at server start: no core dumps, so keys in memory never land on disk.

/// Sets the core-file size limit to zero (soft and hard, so it cannot be raised again) and,
/// on Linux, marks the process non-dumpable (no core dump, no ptrace attach by other users).
pub fn disable_core_dumps() -> std::io::Result<()> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )?;
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    Ok(())
}

//! What the supervisor shows of the calls it answers (SPEC, "Kernel-enforced
//! mode": visible): one trace line per call, in the library's text or JSON
//! format (`sock_core::trace`), and a stats table per process
//! (`sock_core::stats`), written when sockrun ends. A call a preloaded
//! libsock already traced and counted carries its token
//! (`sock_core::supervised`) and is shown only if the supervisor refuses it.

use sock_core::Call;
use sock_core::config::{Config, Format, Output};
use sock_core::stats::{self, Counts};
use sock_core::trace::{self, LineBuf, Outcome, Record};

use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// A call answered, as it is shown.
pub struct Shown {
    /// The process and the thread that made it.
    pub ids: (u32, u32),
    /// The call and its decoded arguments (`denied_by` among them).
    pub record: Record,
    /// What it returned.
    pub outcome: Outcome,
    /// Refused by the rules.
    pub denied: bool,
    /// Bytes sent.
    pub bytes: u64,
}

/// Where trace lines or stats tables go: stderr, or a file (one per
/// process with `%p`), opened once and kept.
struct Sink {
    out: Output,
    /// "trace" or "stats", for messages.
    what: &'static str,
    /// Open files by path: the one file, or the last [`OPEN_FILES`] of a
    /// `%p` template, not one per process the supervisor ever saw.
    files: Mutex<HashMap<String, File>>,
}

/// The most per-process files (`%p`) a sink keeps open at once.
const OPEN_FILES: usize = 16;

impl Sink {
    fn new(out: Output, what: &'static str) -> Sink {
        Sink {
            out,
            what,
            files: Mutex::new(HashMap::new()),
        }
    }

    /// Opens the file now if it is one file (no `%p`), in sockrun before
    /// the supervisor is forked and leaves the terminal: a problem is one
    /// line on sockrun's stderr, and `/dev/tty` is still the terminal. For
    /// a `%p` template, whether its directory can be written. Ok(the
    /// descriptor the supervisor must keep, if one was opened); Err(()) if
    /// the output cannot be written (said on stderr).
    fn open(&mut self) -> Result<Option<RawFd>, ()> {
        let Output::File(template) = &self.out else {
            return Ok(None);
        };
        let what = self.what;
        if template.contains("%p") {
            let dir = Path::new(template)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let writable = CString::new(dir.as_os_str().as_bytes())
                // SAFETY: a NUL-terminated path.
                .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0);
            if writable {
                return Ok(None);
            }
            eprintln!(
                "sockrun: cannot write the {what} files {template} (the directory {}): \
                 the supervised calls' {what} is dropped",
                dir.display()
            );
            return Err(());
        }
        match append(template) {
            Ok(file) => {
                let fd = file.as_raw_fd();
                let files = self.files.get_mut().unwrap_or_else(|e| e.into_inner());
                files.insert(template.clone(), file);
                Ok(Some(fd))
            }
            Err(e) => {
                eprintln!(
                    "sockrun: cannot open the {what} file {template}: {}; the supervised \
                     calls' {what} is dropped",
                    crate::exec::describe(&e)
                );
                Err(())
            }
        }
    }

    /// Writes `bytes` (whole, with one write) for process `pid`.
    fn write(&self, pid: u32, bytes: &[u8]) {
        let Some(path) = self.out.path_for(pid) else {
            let _ = std::io::stderr().lock().write_all(bytes);
            return;
        };
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if !files.contains_key(&path) {
            if files.len() >= OPEN_FILES {
                files.clear();
            }
            match append(&path) {
                Ok(f) => {
                    files.insert(path.clone(), f);
                }
                Err(e) => {
                    eprintln!(
                        "sockrun: cannot open the {} file {path}: {}",
                        self.what,
                        crate::exec::describe(&e)
                    );
                    return;
                }
            }
        }
        if let Some(f) = files.get_mut(&path) {
            let _ = f.write_all(bytes);
        }
    }
}

/// The trace and the stats of the calls the supervisor answers.
pub struct Report {
    trace: Option<(Sink, Format)>,
    stats: Option<Sink>,
    /// Counters per process, per call.
    counts: Mutex<BTreeMap<u32, Vec<Counts>>>,
}

impl Report {
    /// What `config` (LIBSOCK_TRACE, LIBSOCK_TRACE_FORMAT, LIBSOCK_STATS)
    /// asks for.
    pub fn new(config: &Config) -> Report {
        Report {
            trace: config
                .trace
                .clone()
                .map(|out| (Sink::new(out, "trace"), config.format)),
            stats: config.stats.clone().map(|out| Sink::new(out, "stats")),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether anything is shown at all (else calls are not even decoded).
    pub fn active(&self) -> bool {
        self.trace.is_some() || self.stats.is_some()
    }

    /// Opens the trace and stats files that are one file ([`Sink::open`]);
    /// an output that cannot be written is dropped. Returns the
    /// descriptors the supervisor must keep.
    pub fn open(&mut self) -> Vec<RawFd> {
        let mut keep = Vec::new();
        if let Some((sink, _)) = &mut self.trace {
            match sink.open() {
                Ok(fd) => keep.extend(fd),
                Err(()) => self.trace = None,
            }
        }
        if let Some(sink) = &mut self.stats {
            match sink.open() {
                Ok(fd) => keep.extend(fd),
                Err(()) => self.stats = None,
            }
        }
        keep
    }

    /// Whether trace lines or stats go to stderr.
    pub fn writes_stderr(&self) -> bool {
        matches!(&self.trace, Some((sink, _)) if sink.out == Output::Stderr)
            || matches!(&self.stats, Some(sink) if sink.out == Output::Stderr)
    }

    /// Shows one call.
    pub fn call(&self, shown: &Shown) {
        if self.stats.is_some() {
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            let per_call = counts
                .entry(shown.ids.0)
                .or_insert_with(|| vec![Counts::default(); Call::ALL.len()]);
            let c = &mut per_call[shown.record.call().index()];
            c.calls += 1;
            c.errors += u64::from(shown.outcome.errno.is_some());
            c.denied += u64::from(shown.denied);
            c.bytes_out += shown.bytes;
        }
        if let Some((sink, format)) = &self.trace {
            let mut line = LineBuf::new();
            let written = match format {
                Format::Text => trace::text(&mut line, shown.ids, &shown.record, &shown.outcome),
                Format::Json => {
                    trace::json(&mut line, shown.ids, now(), &shown.record, &shown.outcome)
                }
            };
            if written.is_ok() {
                sink.write(shown.ids.0, line.finish_line());
            }
        }
    }

    /// Writes the stats table of every process whose calls were answered
    /// (when the last process under the filter is gone).
    pub fn finish(&self) {
        let Some(sink) = &self.stats else { return };
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (pid, per_call) in counts.iter() {
            let title = format!("libsock stats for pid {pid} (calls answered by sockrun --kernel)");
            if let Some(table) = stats::table(&title, |call| per_call[call.index()]) {
                sink.write(*pid, table.as_bytes());
            }
        }
    }
}

/// `path`, opened to append (created 0644 as the library creates it).
fn append(path: &str) -> std::io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(path)
}

/// The wall clock as (seconds, microseconds), for JSON lines.
fn now() -> (i64, i64) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, i64::from(d.subsec_micros()))
}

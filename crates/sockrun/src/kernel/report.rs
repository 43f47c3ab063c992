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

/// The trace and the stats of the calls the supervisor answers.
pub struct Report {
    trace: Option<(Output, Format)>,
    stats: Option<Output>,
    /// Trace files by path (a `%p` path is one file per process).
    files: Mutex<HashMap<String, File>>,
    /// Counters per process, per call.
    counts: Mutex<BTreeMap<u32, Vec<Counts>>>,
    /// The stats file, when it is one file (opened by [`Report::open`]).
    stats_file: Option<File>,
}

/// The most per-process trace files (`%p`) kept open at once.
const OPEN_TRACE_FILES: usize = 16;

impl Report {
    /// What `config` (LIBSOCK_TRACE, LIBSOCK_TRACE_FORMAT, LIBSOCK_STATS)
    /// asks for.
    pub fn new(config: &Config) -> Report {
        Report {
            trace: config.trace.clone().map(|out| (out, config.format)),
            stats: config.stats.clone(),
            files: Mutex::new(HashMap::new()),
            counts: Mutex::new(BTreeMap::new()),
            stats_file: None,
        }
    }

    /// Whether anything is shown at all (else calls are not even decoded).
    pub fn active(&self) -> bool {
        self.trace.is_some() || self.stats.is_some()
    }

    /// Opens the trace and stats files that are one file (no `%p`), in
    /// sockrun before the supervisor is forked and leaves the terminal: a
    /// problem is one line on sockrun's stderr (and that output is dropped),
    /// and `/dev/tty` is still the terminal. For a `%p` path, whether its
    /// directory can be written. Returns the descriptors the supervisor
    /// must keep.
    pub fn open(&mut self) -> Vec<RawFd> {
        let mut keep = Vec::new();
        if let Some((Output::File(template), _)) = &self.trace {
            match self.open_one(template, "trace") {
                Some(Some(file)) => {
                    keep.push(file.as_raw_fd());
                    self.files
                        .get_mut()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(template.clone(), file);
                }
                Some(None) => {}
                None => self.trace = None,
            }
        }
        if let Some(Output::File(template)) = &self.stats {
            match self.open_one(template, "stats") {
                Some(Some(file)) => {
                    keep.push(file.as_raw_fd());
                    self.stats_file = Some(file);
                }
                Some(None) => {}
                None => self.stats = None,
            }
        }
        keep
    }

    /// `template` opened (Some(Some)), or a `%p` template whose directory
    /// is writable (Some(None)); None, with a line on stderr, if neither.
    fn open_one(&self, template: &str, what: &str) -> Option<Option<File>> {
        if template.contains("%p") {
            let dir = Path::new(template)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let writable = CString::new(dir.as_os_str().as_bytes())
                // SAFETY: a NUL-terminated path.
                .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0);
            if writable {
                return Some(None);
            }
            eprintln!(
                "sockrun: cannot write the {what} files {template} (the directory {}): \
                 the supervised calls' {what} is dropped",
                dir.display()
            );
            return None;
        }
        match append(template) {
            Ok(file) => Some(Some(file)),
            Err(e) => {
                eprintln!(
                    "sockrun: cannot open the {what} file {template}: {}; the supervised \
                     calls' {what} is dropped",
                    crate::exec::describe(&e)
                );
                None
            }
        }
    }

    /// Whether trace lines or stats go to stderr.
    pub fn writes_stderr(&self) -> bool {
        matches!(self.trace, Some((Output::Stderr, _)))
            || matches!(self.stats, Some(Output::Stderr))
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
        if let Some((out, format)) = &self.trace {
            let mut line = LineBuf::new();
            let written = match format {
                Format::Text => trace::text(&mut line, shown.ids, &shown.record, &shown.outcome),
                Format::Json => {
                    trace::json(&mut line, shown.ids, now(), &shown.record, &shown.outcome)
                }
            };
            if written.is_ok() {
                self.write(out, shown.ids.0, line.finish_line());
            }
        }
    }

    /// Writes one line (whole, with one write) to `out` for process `pid`.
    fn write(&self, out: &Output, pid: u32, bytes: &[u8]) {
        match out.path_for(pid) {
            None => {
                let _ = std::io::stderr().lock().write_all(bytes);
            }
            Some(path) => {
                let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
                if !files.contains_key(&path) {
                    // One file per process (`%p`): a few kept open, not
                    // one per process the supervisor ever saw.
                    if files.len() >= OPEN_TRACE_FILES {
                        files.clear();
                    }
                    match append(&path) {
                        Ok(f) => {
                            files.insert(path.clone(), f);
                        }
                        Err(e) => {
                            eprintln!(
                                "sockrun: cannot open the trace file {path}: {}",
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
    }

    /// Writes the stats table of every process whose calls were answered
    /// (at sockrun's end).
    pub fn finish(&self) {
        let Some(out) = &self.stats else { return };
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (pid, per_call) in counts.iter() {
            let title = format!("libsock stats for pid {pid} (calls answered by sockrun --kernel)");
            let Some(table) = stats::table(&title, |call| per_call[call.index()]) else {
                continue;
            };
            if let Some(mut file) = self.stats_file.as_ref() {
                let _ = file.write_all(table.as_bytes());
                continue;
            }
            match out.path_for(*pid) {
                None => {
                    let _ = std::io::stderr().lock().write_all(table.as_bytes());
                }
                Some(path) => match append(&path) {
                    Ok(mut f) => {
                        let _ = f.write_all(table.as_bytes());
                    }
                    Err(e) => eprintln!(
                        "sockrun: cannot open the stats file {path}: {}",
                        crate::exec::describe(&e)
                    ),
                },
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

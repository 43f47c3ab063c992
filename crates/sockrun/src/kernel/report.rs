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
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
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
}

impl Report {
    /// What `config` (LIBSOCK_TRACE, LIBSOCK_TRACE_FORMAT, LIBSOCK_STATS)
    /// asks for.
    pub fn new(config: &Config) -> Report {
        Report {
            trace: config.trace.clone().map(|out| (out, config.format)),
            stats: config.stats.clone(),
            files: Mutex::new(HashMap::new()),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether anything is shown at all (else calls are not even decoded).
    pub fn active(&self) -> bool {
        self.trace.is_some() || self.stats.is_some()
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

//! What sockrun needs from ELF headers, read with `object`: whether a file
//! has a program interpreter (the loader runs it, and preloads), a dynamic
//! section, and which machine it is for; and the warnings they lead to.

use object::read::elf::{FileHeader, ProgramHeader};
use object::{Endianness, FileKind, ReadCache, ReadRef};

use std::fs::{self, File};
use std::io::{self, Read, Seek};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A shared object (a library, or a position-independent executable).
pub(crate) const ET_DYN: u16 = object::elf::ET_DYN.0;
/// A segment naming the program interpreter.
const PT_INTERP: u32 = object::elf::PT_INTERP.0;
/// The dynamic section's segment.
const PT_DYNAMIC: u32 = object::elf::PT_DYNAMIC.0;

/// What the ELF header and program headers say about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Elf {
    /// EI_CLASS: 1 for 32-bit, 2 for 64-bit.
    pub(crate) class: u8,
    /// EI_DATA: 1 little-endian, 2 big-endian.
    pub(crate) data: u8,
    pub(crate) e_type: u16,
    pub(crate) machine: u16,
    /// A PT_INTERP segment: the dynamic loader runs it (and preloads).
    pub(crate) interp: bool,
    /// A PT_DYNAMIC segment.
    pub(crate) dynamic: bool,
}

impl Elf {
    /// Whether a library built like `other` can be loaded into this.
    fn same_machine(&self, other: &Elf) -> bool {
        (self.class, self.data, self.machine) == (other.class, other.data, other.machine)
    }
}

/// Reads the ELF header and program headers of `file` (only those bytes):
/// `None` if it is not ELF (a script, say) or not one a loader would take,
/// an error if its program header table is cut short.
pub(crate) fn read_elf(file: impl Read + Seek) -> io::Result<Option<Elf>> {
    let data = ReadCache::new(file);
    match FileKind::parse(&data) {
        Ok(FileKind::Elf32) => identify::<object::elf::FileHeader32<Endianness>, _>(&data),
        Ok(FileKind::Elf64) => identify::<object::elf::FileHeader64<Endianness>, _>(&data),
        _ => Ok(None),
    }
}

fn identify<'data, H, R>(data: R) -> io::Result<Option<Elf>>
where
    H: FileHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    let Ok(header) = H::parse(data) else {
        return Ok(None);
    };
    let Ok(endian) = header.endian() else {
        return Ok(None);
    };
    // A table whose entries are not program headers is no table.
    if usize::from(header.e_phentsize(endian)) != size_of::<H::ProgramHeader>() {
        return Ok(None);
    }
    let segments = header
        .program_headers(endian, data)
        .map_err(|_| io::Error::new(io::ErrorKind::UnexpectedEof, "failed to fill whole buffer"))?;
    let has = |p_type| segments.iter().any(|s| s.p_type(endian).0 == p_type);
    let ident = header.e_ident();
    Ok(Some(Elf {
        class: ident.class.0,
        data: ident.data.0,
        e_type: header.e_type(endian).0,
        machine: header.e_machine(endian).0,
        interp: has(PT_INTERP),
        dynamic: has(PT_DYNAMIC),
    }))
}

/// Whether `program` is an ELF file without a program interpreter (static,
/// or static-pie): no LD_PRELOAD reaches it.
pub(crate) fn is_static(program: &Path) -> bool {
    fs::metadata(program).is_ok_and(|m| m.is_file())
        && File::open(program)
            .and_then(read_elf)
            .is_ok_and(|elf| elf.is_some_and(|e| !e.interp))
}

/// Why libsock will not get into `program` (one line each, no prefix);
/// `kernel`: it runs under the kernel-enforced mode.
pub(crate) fn interposition_warnings(program: &Path, lib: &Elf, kernel: bool) -> Vec<String> {
    // Only a regular file is looked into (opening a FIFO could block).
    let Some(mode) = fs::metadata(program)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.permissions().mode())
    else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    let shown = program.display();
    if let (Some(bits), true) = (privilege_bits(mode), kernel) {
        warnings.push(format!(
            "{shown} is {bits}: under --kernel (no_new_privs) it runs without raised \
             privileges (running it anyway)"
        ));
    } else if let Some(bits) = privilege_bits(mode) {
        warnings.push(format!(
            "{shown} is {bits}: run with raised privileges, the loader ignores LD_PRELOAD \
             paths and libsock ignores LIBSOCK_* (running it anyway)"
        ));
    }
    match File::open(program).and_then(read_elf) {
        // The kernel-enforced mode holds its access rules (only those).
        Ok(Some(elf)) if !elf.interp && kernel => {}
        Ok(Some(elf)) if !elf.interp => warnings.push(format!(
            "{shown} is statically linked (no program interpreter): libsock cannot be \
             preloaded into it (running it anyway)"
        )),
        Ok(Some(elf)) if !elf.same_machine(lib) => warnings.push(format!(
            "{shown} is built for another machine or word size than libsock.so: the loader \
             will skip libsock (running it anyway)"
        )),
        _ => {}
    }
    warnings
}

/// "setuid", "setgid" or both, from a file's mode.
fn privilege_bits(mode: u32) -> Option<&'static str> {
    match (mode & 0o4000 != 0, mode & 0o2000 != 0) {
        (true, true) => Some("setuid and setgid"),
        (true, false) => Some("setuid"),
        (false, true) => Some("setgid"),
        (false, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{scratch, touch};
    use std::io::Cursor;

    /// A little-endian ELF64 (x86-64) file with segments of these types.
    fn elf64(e_type: u16, segments: &[u32]) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        // EI_VERSION 1 (EV_CURRENT), as every real file has it.
        f[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
        f[16..18].copy_from_slice(&e_type.to_le_bytes());
        f[18..20].copy_from_slice(&62u16.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        for &p_type in segments {
            let mut entry = [0u8; 56];
            entry[..4].copy_from_slice(&p_type.to_le_bytes());
            f.extend_from_slice(&entry);
        }
        f
    }

    /// A big-endian ELF32 file (type EXEC, machine PowerPC) with a table at 100.
    fn elf32_be(segments: &[u32]) -> Vec<u8> {
        let mut f = vec![0u8; 100];
        f[..7].copy_from_slice(b"\x7fELF\x01\x02\x01");
        f[16..18].copy_from_slice(&2u16.to_be_bytes());
        f[18..20].copy_from_slice(&20u16.to_be_bytes());
        f[28..32].copy_from_slice(&100u32.to_be_bytes());
        f[42..44].copy_from_slice(&32u16.to_be_bytes());
        f[44..46].copy_from_slice(&(segments.len() as u16).to_be_bytes());
        for &p_type in segments {
            let mut entry = [0u8; 32];
            entry[..4].copy_from_slice(&p_type.to_be_bytes());
            f.extend_from_slice(&entry);
        }
        f
    }

    fn elf(bytes: Vec<u8>) -> io::Result<Option<Elf>> {
        read_elf(Cursor::new(bytes))
    }

    const PT_LOAD: u32 = 1;

    #[test]
    fn elf_dynamic_static_and_static_pie() {
        let dynamic = elf(elf64(ET_DYN, &[6, PT_INTERP, PT_LOAD, PT_DYNAMIC]))
            .unwrap()
            .unwrap();
        assert_eq!(
            dynamic,
            Elf {
                class: 2,
                data: 1,
                e_type: ET_DYN,
                machine: 62,
                interp: true,
                dynamic: true
            }
        );
        let fully_static = elf(elf64(2, &[PT_LOAD, PT_LOAD])).unwrap().unwrap();
        assert!(!fully_static.interp && !fully_static.dynamic);
        let static_pie = elf(elf64(ET_DYN, &[PT_LOAD, PT_DYNAMIC])).unwrap().unwrap();
        assert!(!static_pie.interp && static_pie.dynamic);
        let ppc = elf(elf32_be(&[PT_INTERP, PT_LOAD])).unwrap().unwrap();
        assert_eq!(
            (ppc.class, ppc.data, ppc.machine, ppc.interp),
            (1, 2, 20, true)
        );
        assert!(!ppc.same_machine(&dynamic) && fully_static.same_machine(&dynamic));
    }

    #[test]
    fn elf_not_elf_or_cut_short() {
        assert_eq!(elf(b"#!/bin/sh\necho hi\n".to_vec()).unwrap(), None);
        assert_eq!(elf(Vec::new()).unwrap(), None);
        assert_eq!(elf(b"\x7fELF".to_vec()).unwrap(), None);
        let mut bad_class = elf64(ET_DYN, &[PT_INTERP]);
        bad_class[4] = 3;
        assert_eq!(elf(bad_class).unwrap(), None);
        let mut small_entries = elf64(ET_DYN, &[PT_INTERP]);
        small_entries[54] = 8;
        assert_eq!(elf(small_entries).unwrap(), None);
        let mut huge = elf64(ET_DYN, &[PT_INTERP]);
        huge[54..58].copy_from_slice(&[0xff, 0xff, 0xfe, 0xff]);
        assert_eq!(elf(huge).unwrap(), None);
        // The program header table runs past the end of the file.
        let mut cut = elf64(ET_DYN, &[PT_INTERP, PT_LOAD]);
        cut.truncate(100);
        assert!(elf(cut).is_err());
    }

    #[test]
    fn elf_of_real_files() {
        let me = File::open("/proc/self/exe")
            .and_then(read_elf)
            .unwrap()
            .unwrap();
        assert!(me.interp && me.dynamic, "{me:?}");
        assert_eq!(File::open("Cargo.toml").and_then(read_elf).unwrap(), None);
    }

    #[test]
    fn warnings_for_setuid_and_static() {
        let root = scratch("warn");
        let lib = elf(elf64(ET_DYN, &[PT_LOAD, PT_DYNAMIC])).unwrap().unwrap();
        let script = root.join("script");
        touch(&script, 0o755);
        assert!(interposition_warnings(&script, &lib, false).is_empty());
        fs::set_permissions(&script, fs::Permissions::from_mode(0o4755)).unwrap();
        let w = interposition_warnings(&script, &lib, false);
        assert!(w.len() == 1 && w[0].contains("is setuid:"), "{w:?}");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o6755)).unwrap();
        assert!(interposition_warnings(&script, &lib, false)[0].contains("is setuid and setgid:"));
        let w = interposition_warnings(&script, &lib, true);
        assert!(
            w.len() == 1 && w[0].contains("without raised privileges"),
            "{w:?}"
        );

        let program = root.join("static");
        fs::write(&program, elf64(2, &[PT_LOAD])).unwrap();
        let w = interposition_warnings(&program, &lib, false);
        assert!(
            w.len() == 1 && w[0].contains("is statically linked"),
            "{w:?}"
        );
        // Under --kernel a static binary's rules are held: no warning.
        assert!(interposition_warnings(&program, &lib, true).is_empty());
        fs::write(&program, elf32_be(&[PT_INTERP])).unwrap();
        let w = interposition_warnings(&program, &lib, false);
        assert!(w.len() == 1 && w[0].contains("another machine"), "{w:?}");
        fs::write(&program, elf64(ET_DYN, &[PT_INTERP, PT_DYNAMIC])).unwrap();
        assert!(interposition_warnings(&program, &lib, false).is_empty());
        let _ = fs::remove_dir_all(root);
    }
}

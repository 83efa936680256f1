//! Where release files come from: a folder, a zip, a FHIR package tarball or memory.

use crate::{file_name, LoadError};
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

/// The named files of one release, each opened for a streaming read.
pub trait Source {
    /// The file names, relative to the release root, with `/` separators.
    fn names(&self) -> Vec<String>;
    /// Opens one file by its name from [`Source::names`].
    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, LoadError>;

    fn read_bytes(&self, name: &str) -> Result<Vec<u8>, LoadError> {
        let mut bytes = Vec::new();
        self.open(name)?.read_to_end(&mut bytes).map_err(|error| LoadError::new(name, format!("cannot read: {error}")))?;
        Ok(bytes)
    }
}

/// Files in memory: test fixtures, and the entries of a package tarball.
#[derive(Default)]
pub struct MemorySource {
    pub files: Vec<(String, Vec<u8>)>,
}

impl MemorySource {
    pub fn new(files: impl IntoIterator<Item = (impl Into<String>, impl Into<Vec<u8>>)>) -> MemorySource {
        MemorySource { files: files.into_iter().map(|(name, bytes)| (name.into(), bytes.into())).collect() }
    }

    /// Reads every regular file of a gzipped tarball (a FHIR NPM package).
    pub fn from_tgz(path: &Path) -> Result<MemorySource, LoadError> {
        let display = path.display().to_string();
        let file = File::open(path).map_err(|error| LoadError::new(&display, format!("cannot open: {error}")))?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut files = Vec::new();
        let entries = archive.entries().map_err(|error| LoadError::new(&display, format!("not a gzipped tarball: {error}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|error| LoadError::new(&display, format!("corrupt tarball: {error}")))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name =
                entry.path().map_err(|error| LoadError::new(&display, format!("bad entry name: {error}")))?.to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|error| LoadError::new(format!("{display}!{name}"), format!("corrupt tarball: {error}")))?;
            files.push((name, bytes));
        }
        Ok(MemorySource { files })
    }
}

impl Source for MemorySource {
    fn names(&self) -> Vec<String> {
        self.files.iter().map(|(name, _)| name.clone()).collect()
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, LoadError> {
        let (_, bytes) = self.files.iter().find(|(file, _)| file == name).ok_or_else(|| LoadError::new(name, "no such file"))?;
        Ok(Box::new(Cursor::new(bytes.as_slice())))
    }
}

/// The files under a folder, found recursively.
pub struct DirSource {
    pub root: PathBuf,
    names: Vec<String>,
}

impl DirSource {
    pub fn new(root: &Path) -> Result<DirSource, LoadError> {
        let mut names = Vec::new();
        walk(root, root, &mut names)?;
        names.sort();
        Ok(DirSource { root: root.to_owned(), names })
    }
}

fn walk(root: &Path, dir: &Path, names: &mut Vec<String>) -> Result<(), LoadError> {
    let entries =
        std::fs::read_dir(dir).map_err(|error| LoadError::new(dir.display().to_string(), format!("cannot read folder: {error}")))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, names)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            names.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

impl Source for DirSource {
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, LoadError> {
        let path = self.root.join(name);
        let file = File::open(&path).map_err(|error| LoadError::new(path.display().to_string(), format!("cannot open: {error}")))?;
        Ok(Box::new(std::io::BufReader::new(file)))
    }
}

/// The entries of a zip archive. Entries with `..` or absolute names are refused when opened.
pub struct ZipSource {
    path: PathBuf,
    names: Vec<String>,
}

impl ZipSource {
    pub fn new(path: &Path) -> Result<ZipSource, LoadError> {
        let display = path.display().to_string();
        let file = File::open(path).map_err(|error| LoadError::new(&display, format!("cannot open: {error}")))?;
        let archive = zip::ZipArchive::new(file).map_err(|error| LoadError::new(&display, format!("not a zip archive: {error}")))?;
        let mut names = Vec::new();
        for name in archive.file_names() {
            let name = name.map_err(|error| LoadError::new(&display, format!("bad entry name: {error}")))?;
            if !name.ends_with('/') {
                names.push(name.into_owned());
            }
        }
        Ok(ZipSource { path: path.to_owned(), names })
    }
}

impl Source for ZipSource {
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, LoadError> {
        let display = format!("{}!{name}", self.path.display());
        if name.starts_with('/') || name.split('/').any(|part| part == "..") {
            return Err(LoadError::new(display, "refusing a zip entry that points outside the archive"));
        }
        let file = File::open(&self.path).map_err(|error| LoadError::new(&display, format!("cannot open: {error}")))?;
        let mut archive = zip::ZipArchive::new(file).map_err(|error| LoadError::new(&display, format!("not a zip archive: {error}")))?;
        let mut entry = archive.by_name(name).map_err(|error| LoadError::new(&display, format!("cannot read entry: {error}")))?;
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|error| LoadError::new(&display, format!("corrupt entry: {error}")))?;
        Ok(Box::new(Cursor::new(bytes)))
    }
}

/// Several sources seen as one, names prefixed by the source's file name when there are several.
struct MultiSource {
    parts: Vec<(String, Box<dyn Source>)>,
}

impl Source for MultiSource {
    fn names(&self) -> Vec<String> {
        self.parts.iter().flat_map(|(prefix, source)| source.names().into_iter().map(move |name| format!("{prefix}/{name}"))).collect()
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, LoadError> {
        let (prefix, rest) = name.split_once('/').ok_or_else(|| LoadError::new(name, "no such file"))?;
        let (_, source) = self.parts.iter().find(|(part, _)| part == prefix).ok_or_else(|| LoadError::new(name, "no such file"))?;
        source.open(rest)
    }
}

fn open_one(path: &Path) -> Result<Box<dyn Source>, LoadError> {
    let display = path.display().to_string();
    if path.is_dir() {
        return Ok(Box::new(DirSource::new(path)?));
    }
    if !path.exists() {
        return Err(LoadError::new(display, "no such file or folder"));
    }
    let name = file_name(path);
    if name.ends_with(".zip") {
        Ok(Box::new(ZipSource::new(path)?))
    } else if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
        Ok(Box::new(MemorySource::from_tgz(path)?))
    } else {
        let bytes = std::fs::read(path).map_err(|error| LoadError::new(&display, format!("cannot read: {error}")))?;
        Ok(Box::new(MemorySource::new([(name, bytes)])))
    }
}

pub(crate) fn open_paths(paths: &[PathBuf]) -> Result<Box<dyn Source>, LoadError> {
    match paths {
        [] => Err(LoadError::new("", "no files given")),
        [single] => open_one(single),
        several => {
            let mut parts = Vec::new();
            for (idx, path) in several.iter().enumerate() {
                parts.push((format!("{idx}-{}", file_name(path)), open_one(path)?));
            }
            Ok(Box::new(MultiSource { parts }))
        }
    }
}

/// A source that reports the bytes read through it (`on_read`), for progress while a release is
/// parsed: the upload jobs and `fhirterm load` both watch their loads through it.
pub struct CountingSource<'a> {
    inner: Box<dyn Source>,
    on_read: &'a (dyn Fn(usize) + Sync),
}

impl<'a> CountingSource<'a> {
    pub fn new(inner: Box<dyn Source>, on_read: &'a (dyn Fn(usize) + Sync)) -> CountingSource<'a> {
        CountingSource { inner, on_read }
    }
}

struct CountingReader<'a, R> {
    inner: R,
    on_read: &'a (dyn Fn(usize) + Sync),
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n_read = self.inner.read(buffer)?;
        (self.on_read)(n_read);
        Ok(n_read)
    }
}

impl Source for CountingSource<'_> {
    fn names(&self) -> Vec<String> {
        self.inner.names()
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, LoadError> {
        Ok(Box::new(CountingReader { inner: self.inner.open(name)?, on_read: self.on_read }))
    }
}

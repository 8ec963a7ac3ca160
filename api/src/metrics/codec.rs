//! The snapshot's encoding: counts, fixed-size values and text, little-endian, with a
//! CRC-32 over all of it. Column kinds ([`super::columns`]) and the snapshot's framing
//! ([`super::persisted`]) write and read through it.

use std::io::{Read, Write};

/// Bytes written, with their CRC-32.
pub struct Writer<W> {
    inner: W,
    crc: crc32fast::Hasher,
    /// Values encoded but not yet written: the checksum and the writer take them in chunks,
    /// not a few bytes at a time.
    pending: Vec<u8>,
}

/// How many bytes of values are encoded before they are written.
const CHUNK: usize = 1 << 16;

impl<W: Write> Writer<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            crc: crc32fast::Hasher::new(),
            pending: Vec::with_capacity(CHUNK),
        }
    }

    /// Writes the CRC-32 of everything written and hands back the inner writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        let crc = self.crc.clone().finalize();
        self.inner.write_all(&crc.to_le_bytes())?;
        Ok(self.inner)
    }

    pub fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.crc.update(bytes);
        self.inner.write_all(bytes)
    }

    pub fn count(&mut self, n: usize) -> std::io::Result<()> {
        self.put(&(n as u64).to_le_bytes())
    }

    /// Values of `N` bytes each.
    pub fn values<const N: usize>(
        &mut self,
        values: impl Iterator<Item = [u8; N]>,
    ) -> std::io::Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        for value in values {
            pending.extend_from_slice(&value);
            if pending.len() >= CHUNK {
                self.put(&pending)?;
                pending.clear();
            }
        }
        let written = self.put(&pending);
        pending.clear();
        self.pending = pending;
        written
    }

    pub fn text(&mut self, text: &str) -> std::io::Result<()> {
        self.count(text.len())?;
        self.put(text.as_bytes())
    }
}

/// Bytes read, with their CRC-32.
pub struct Reader<R> {
    inner: R,
    crc: crc32fast::Hasher,
    /// Bytes left to read in the file: a corrupt length cannot ask for more.
    left: u64,
}

pub fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

impl<R: Read> Reader<R> {
    /// Reads `inner`, which holds `length` bytes.
    pub fn new(inner: R, length: u64) -> Self {
        Self {
            inner,
            crc: crc32fast::Hasher::new(),
            left: length,
        }
    }

    /// Whether the CRC-32 stored next is that of everything read, and ends the input.
    pub fn finish(mut self) -> std::io::Result<bool> {
        let computed = self.crc.clone().finalize();
        let stored = u32::from_le_bytes(self.fixed()?);
        Ok(stored == computed && self.left == 0)
    }

    fn take(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        if n as u64 > self.left {
            return Err(bad("a length past the end of the file"));
        }
        self.left -= n as u64;
        let mut bytes = vec![0; n];
        self.inner.read_exact(&mut bytes)?;
        self.crc.update(&bytes);
        Ok(bytes)
    }

    pub fn fixed<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| bad("a short read"))
    }

    /// A count of what follows, each at least one byte.
    pub fn count(&mut self) -> std::io::Result<usize> {
        let n = u64::from_le_bytes(self.fixed()?);
        if n > self.left {
            return Err(bad("a count past the end of the file"));
        }
        Ok(n as usize)
    }

    /// `n` values of `N` bytes each, each turned into a `T` by `value`.
    pub fn values<const N: usize, T>(
        &mut self,
        n: usize,
        value: impl Fn([u8; N]) -> T,
    ) -> std::io::Result<Vec<T>> {
        let length = n
            .checked_mul(N)
            .ok_or_else(|| bad("a column longer than the file"))?;
        let bytes = self.take(length)?;
        let (values, _) = bytes.as_chunks::<N>();
        Ok(values.iter().map(|v| value(*v)).collect())
    }

    pub fn text(&mut self) -> std::io::Result<String> {
        let length = self.count()?;
        String::from_utf8(self.take(length)?).map_err(|_| bad("text that is not UTF-8"))
    }
}

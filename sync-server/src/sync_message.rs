//! Automerge sync messages (the `data` of `request` and `sync` frames), read before
//! automerge decodes them. Automerge trusts the numbers a message carries:
//! - a Bloom filter claiming 4,294,967,295 probes makes it allocate 17 GB while it
//!   answers, and one with zero bits per entry divides by zero;
//! - a list of a million heads is kept, copied, in the sender's sync state;
//! - a DEFLATE-compressed change or column inflates without bound.
//!
//! So the server reads the message's layout itself: every count and length, the Bloom
//! filters' parameters, each chunk's header, and what every DEFLATE stream inflates to
//! (counted as it streams, never held). A message beyond [`Limits`] is refused whole,
//! before samod or automerge sees it. What is checked here is exactly what automerge's
//! parser reads, so a message that passes decodes the same way in automerge.
//!
//! The layout (both versions, `0x42` and `0x43`):
//! `heads` (count, 32-byte hashes), `need` (the same), `have` (count; each: `last_sync`
//! hashes, then a length-prefixed Bloom filter: entries, bits per entry, probes, bits),
//! `changes` (count; each length-prefixed bytes holding one or more chunks), and, if
//! anything is left, length-prefixed flags. Counts and lengths are unsigned LEB128.

use std::io::Read as _;

/// What one message may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Hashes in one list (heads, need, one have's last sync). A document has as many
    /// heads as concurrent branches: a handful, a few dozen after many offline devices.
    pub max_hashes: usize,
    /// Automerge sends at most one `have`.
    pub max_haves: usize,
    /// Change chunks (a first sync of a long history is many changes).
    pub max_changes: usize,
    /// Bytes all DEFLATE streams of the message may inflate to.
    pub max_inflated_bytes: usize,
}

impl Limits {
    /// Limits for messages of at most `max_message_bytes`.
    pub fn for_messages_of(max_message_bytes: usize, max_inflated_bytes: usize) -> Self {
        Self {
            max_hashes: 1_024,
            max_haves: 4,
            // A change chunk takes more than 32 bytes; more chunks than that cannot be real.
            max_changes: max_message_bytes / 32 + 1,
            max_inflated_bytes,
        }
    }
}

/// Automerge writes 7 probes and 10 bits per entry; anything up to these is accepted.
const MAX_PROBES: u64 = 32;
const MAX_BITS_PER_ENTRY: u64 = 64;

/// The magic bytes every automerge chunk starts with.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Automerge's formats have about twenty columns per section.
const MAX_COLUMNS: usize = 256;

/// The part of a column specification that says its data is DEFLATE-compressed.
const DEFLATE_COLUMN: u64 = 0b1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SyncMessageError {
    #[error("not a sync message")]
    NotASyncMessage,
    #[error("the sync message ends early")]
    Truncated,
    #[error("a number in the sync message is out of range")]
    Number,
    #[error("too many hashes in a list")]
    TooManyHashes,
    #[error("too many haves")]
    TooManyHaves,
    #[error("a Bloom filter with impossible parameters")]
    Bloom,
    #[error("too many changes")]
    TooManyChanges,
    #[error("a change that is not an automerge chunk")]
    Chunk,
    #[error("compressed data inflates beyond the limit")]
    Inflates,
}

/// What a message that passed would make the server hold for its sender until the
/// next one: the sync state keeps the announced hashes and Bloom filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Heads, needs and every have's last sync.
    pub hashes: usize,
    pub bloom_bytes: usize,
    pub changes: usize,
}

impl Summary {
    /// Roughly what the server's state for this message's sender holds, in bytes.
    pub fn held_bytes(&self) -> usize {
        self.hashes
            .saturating_mul(32)
            .saturating_add(self.bloom_bytes)
    }
}

/// A cursor over bytes read from a peer.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], SyncMessageError> {
        let n = usize::try_from(n).map_err(|_| SyncMessageError::Truncated)?;
        if n > self.bytes.len() {
            return Err(SyncMessageError::Truncated);
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, SyncMessageError> {
        Ok(self.take(1)?[0])
    }

    /// Unsigned LEB128, at most 64 bits, as automerge reads it.
    fn uleb(&mut self) -> Result<u64, SyncMessageError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(SyncMessageError::Number);
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(SyncMessageError::Number)
    }

    /// A count of at most `limit` items.
    fn count(&mut self, limit: usize, error: SyncMessageError) -> Result<usize, SyncMessageError> {
        let n = self.uleb()?;
        usize::try_from(n).ok().filter(|n| *n <= limit).ok_or(error)
    }

    fn hashes(&mut self, limit: usize) -> Result<usize, SyncMessageError> {
        let n = self.count(limit, SyncMessageError::TooManyHashes)?;
        self.take(n as u64 * 32)?;
        Ok(n)
    }

    fn prefixed(&mut self) -> Result<&'a [u8], SyncMessageError> {
        let n = self.uleb()?;
        self.take(n)
    }
}

/// Checks `data`, a sync message from a peer, against `limits`.
pub fn check(data: &[u8], limits: &Limits) -> Result<Summary, SyncMessageError> {
    let mut r = Reader { bytes: data };
    if !matches!(r.byte()?, 0x42 | 0x43) {
        return Err(SyncMessageError::NotASyncMessage);
    }
    let mut summary = Summary {
        hashes: r.hashes(limits.max_hashes)? + r.hashes(limits.max_hashes)?,
        ..Summary::default()
    };
    let haves = r.count(limits.max_haves, SyncMessageError::TooManyHaves)?;
    for _ in 0..haves {
        summary.hashes += r.hashes(limits.max_hashes)?;
        let bloom = r.prefixed()?;
        check_bloom(bloom)?;
        summary.bloom_bytes += bloom.len();
    }
    summary.changes = r.count(limits.max_changes, SyncMessageError::TooManyChanges)?;
    let mut inflatable = limits.max_inflated_bytes;
    for _ in 0..summary.changes {
        check_chunks(r.prefixed()?, &mut inflatable)?;
    }
    if !r.is_empty() {
        // The flags; automerge reads them as length-prefixed bytes and ignores the rest.
        r.prefixed()?;
    }
    Ok(summary)
}

/// A Bloom filter as automerge parses it: three 32-bit numbers, then the bits. With
/// entries, it is probed `probes` times per hash modulo its bit count, so both must be
/// positive and the probes few; its bits must all be there.
fn check_bloom(bytes: &[u8]) -> Result<(), SyncMessageError> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut r = Reader { bytes };
    let mut u32_number = || {
        let n = r.uleb()?;
        if n > u64::from(u32::MAX) {
            return Err(SyncMessageError::Bloom);
        }
        Ok(n)
    };
    let entries = u32_number()?;
    let bits_per_entry = u32_number()?;
    let probes = u32_number()?;
    if entries == 0 {
        // An empty filter contains nothing and is never probed.
        return Ok(());
    }
    if !(1..=MAX_BITS_PER_ENTRY).contains(&bits_per_entry) || !(1..=MAX_PROBES).contains(&probes) {
        return Err(SyncMessageError::Bloom);
    }
    let bits = (entries * bits_per_entry).div_ceil(8);
    if bits > r.bytes.len() as u64 {
        return Err(SyncMessageError::Bloom);
    }
    Ok(())
}

/// One or more automerge chunks, one after the other, with what their DEFLATE
/// streams inflate to counted against `inflatable`.
fn check_chunks(bytes: &[u8], inflatable: &mut usize) -> Result<(), SyncMessageError> {
    let mut r = Reader { bytes };
    while !r.is_empty() {
        if r.take(4)? != MAGIC {
            return Err(SyncMessageError::Chunk);
        }
        r.take(4)?; // checksum, which automerge verifies
        let kind = r.byte()?;
        let body = r.prefixed().map_err(|_| SyncMessageError::Chunk)?;
        match kind {
            // A document: actors, heads, the change and operation columns' metadata,
            // then their data.
            0 => {
                let mut b = Reader { bytes: body };
                skip_actors(&mut b)?;
                let heads = b.uleb()?;
                b.take(heads.checked_mul(32).ok_or(SyncMessageError::Chunk)?)?;
                let changes = columns(&mut b)?;
                let operations = columns(&mut b)?;
                check_column_data(&mut b, &changes, inflatable)?;
                check_column_data(&mut b, &operations, inflatable)?;
            }
            // A change: automerge refuses compressed columns in it.
            1 => {}
            // A compressed change: its body is one DEFLATE stream.
            2 => inflate(body, inflatable)?,
            // A bundle: dependencies, actors, then the change columns' metadata and
            // data, then the operation columns' metadata and data.
            3 => {
                let mut b = Reader { bytes: body };
                let deps = b.uleb()?;
                b.take(deps.checked_mul(32).ok_or(SyncMessageError::Chunk)?)?;
                skip_actors(&mut b)?;
                for _ in 0..2 {
                    let specs = columns(&mut b)?;
                    check_column_data(&mut b, &specs, inflatable)?;
                }
            }
            _ => return Err(SyncMessageError::Chunk),
        }
    }
    Ok(())
}

fn skip_actors(r: &mut Reader<'_>) -> Result<(), SyncMessageError> {
    let actors = r.uleb()?;
    for _ in 0..actors {
        r.prefixed()?;
    }
    Ok(())
}

/// Column metadata: a count, then each column's specification and data length.
fn columns(r: &mut Reader<'_>) -> Result<Vec<(u64, u64)>, SyncMessageError> {
    let count = r.count(MAX_COLUMNS, SyncMessageError::Chunk)?;
    let mut specs = Vec::with_capacity(count);
    for _ in 0..count {
        let spec = r.uleb()?;
        let len = r.uleb()?;
        specs.push((spec, len));
    }
    Ok(specs)
}

/// The columns' data, in the order of their metadata; compressed columns are inflated,
/// counted, and dropped.
fn check_column_data(
    r: &mut Reader<'_>,
    specs: &[(u64, u64)],
    inflatable: &mut usize,
) -> Result<(), SyncMessageError> {
    for &(spec, len) in specs {
        let data = r.take(len)?;
        if spec & DEFLATE_COLUMN != 0 {
            inflate(data, inflatable)?;
        }
    }
    Ok(())
}

/// Inflates `compressed` into nothing, counting the bytes against `inflatable`.
fn inflate(compressed: &[u8], inflatable: &mut usize) -> Result<(), SyncMessageError> {
    let allowed = *inflatable as u64;
    let mut decoder = flate2::bufread::DeflateDecoder::new(compressed).take(allowed + 1);
    let inflated =
        std::io::copy(&mut decoder, &mut std::io::sink()).map_err(|_| SyncMessageError::Chunk)?;
    if inflated > allowed {
        return Err(SyncMessageError::Inflates);
    }
    *inflatable -= inflated as usize;
    Ok(())
}

#[cfg(test)]
mod tests;

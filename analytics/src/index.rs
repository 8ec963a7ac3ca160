//! Values by id, for the lookups that join millions of rows to their release or gate.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// Whether `count` keys spanning `span` are dense enough for a table indexed by offset: at
/// most about four times as long as the keys are many.
fn dense(span: u64, count: usize) -> bool {
    span <= 4 * count as u64 + 1024
}

/// Values by id: a vector indexed by id where the ids are dense (as database ids are), a
/// hash map otherwise.
pub enum ById<T> {
    Dense { first: i64, values: Vec<Option<T>> },
    Sparse(HashMap<i64, T>),
}

impl<T: Copy> ById<T> {
    /// The value of each id; for an id given twice, the last. Ids are database ids or
    /// release numbers ([`Numbering`]).
    pub fn new<K: Copy + Into<i64>>(ids: &[K], values: impl Iterator<Item = T>) -> Self {
        let ids = ids.iter().map(|id| (*id).into());
        let (Some(first), Some(last)) = (ids.clone().min(), ids.clone().max()) else {
            return Self::Sparse(HashMap::new());
        };
        let span = last.abs_diff(first);
        if !dense(span, ids.len()) {
            return Self::Sparse(ids.zip(values).collect());
        }
        let mut dense = vec![None; span as usize + 1];
        for (id, value) in ids.zip(values) {
            dense[(id - first) as usize] = Some(value);
        }
        Self::Dense {
            first,
            values: dense,
        }
    }

    pub fn get(&self, id: impl Into<i64>) -> Option<T> {
        let id = id.into();
        match self {
            Self::Dense { first, values } => {
                let index = usize::try_from(id.checked_sub(*first)?).ok()?;
                values.get(index).copied().flatten()
            }
            Self::Sparse(map) => map.get(&id).copied(),
        }
    }
}

/// A small dense number for each distinct key: the key's offset where keys are dense, else
/// the order keys were first seen in. For grouping rows by release or gate in one pass.
pub struct Slots {
    first: i64,
    span: usize,
    sparse: Option<HashMap<i64, usize>>,
}

impl Slots {
    pub fn new<K: Copy + Into<i64>>(keys: &[K]) -> Self {
        let keys = keys.iter().map(|key| (*key).into());
        let (Some(first), Some(last)) = (keys.clone().min(), keys.clone().max()) else {
            return Self {
                first: 0,
                span: 0,
                sparse: Some(HashMap::new()),
            };
        };
        let span = last.abs_diff(first);
        if !dense(span, keys.len()) {
            let mut map = HashMap::new();
            for key in keys {
                let next = map.len();
                map.entry(key).or_insert(next);
            }
            return Self {
                first,
                span: map.len(),
                sparse: Some(map),
            };
        }
        Self {
            first,
            span: span as usize + 1,
            sparse: None,
        }
    }

    /// How many slots there are; every slot is below this.
    pub fn len(&self) -> usize {
        self.span
    }

    /// The slot of a key among those the slots were made from.
    pub fn of(&self, key: impl Into<i64>) -> Option<usize> {
        let key = key.into();
        match &self.sparse {
            None => usize::try_from(key.checked_sub(self.first)?)
                .ok()
                .filter(|s| *s < self.span),
            Some(map) => map.get(&key).copied(),
        }
    }
}

/// Keys numbered densely in the order first seen, so that rows hold a 4-byte number instead
/// of the key, and a table indexed by number is as long as the distinct keys, whatever they
/// are. Numbers are never reused: what is numbered (programs, team names) is never deleted.
#[derive(Debug, Clone)]
pub struct Numbers<K> {
    keys: Vec<K>,
    numbers: HashMap<K, u32>,
}

impl<K> Default for Numbers<K> {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            numbers: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Numbers<K> {
    /// The number of `key`, numbering it if it is new.
    pub fn number(&mut self, key: K) -> u32 {
        let next = self.keys.len() as u32;
        *self.numbers.entry(key).or_insert_with_key(|key| {
            self.keys.push(key.clone());
            next
        })
    }

    /// The number of `key`, if it has one.
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
    {
        self.numbers.get(key).copied()
    }

    /// The key numbered `number`.
    pub fn key(&self, number: u32) -> Option<&K> {
        self.keys.get(number as usize)
    }

    /// How many keys are numbered; every number is below this.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Bytes the numbering holds on the heap, given what each key owns there (each key is
    /// held twice: in order, and in the map).
    pub fn heap_bytes(&self, owned: impl Fn(&K) -> usize) -> usize {
        self.keys.capacity() * size_of::<K>()
            + self.numbers.capacity() * size_of::<(K, u32)>()
            + 2 * self.keys.iter().map(owned).sum::<usize>()
    }
}

/// Programs by number: rows hold a program's number, and a query's programs map to groups
/// through a table as long as the programs.
pub type Programs = Numbers<i64>;

impl Programs {
    /// The numbers of `ids`, numbering those that are new.
    pub fn numbers(&mut self, ids: &[i64]) -> Vec<u32> {
        ids.iter().map(|id| self.number(*id)).collect()
    }
}

/// The number of no program: rows holding it count in no program's figures.
pub const NO_PROGRAM: u32 = u32::MAX;

/// The number of no release (an incident may name none).
pub const NO_RELEASE: u32 = u32::MAX;

/// Release ids numbered as first seen, like [`Numbers`] but without hashing where ids are
/// dense (as database ids are): the number of an id is in a table by its offset from the
/// smallest id there was at the start, and only ids outside that table are in a map. The
/// table grows as new releases arrive, to at most twice the releases numbered.
#[derive(Debug, Clone, Default)]
struct ReleaseIds {
    first: i64,
    /// Numbers by offset from `first`, [`NO_RELEASE`] where none.
    by_offset: Vec<u32>,
    others: HashMap<i64, u32>,
    /// Ids by number.
    ids: Vec<i64>,
}

impl ReleaseIds {
    /// Ready for `ids`, the releases there are: a table if they are dense, a map if not.
    fn new(ids: &[i64]) -> Self {
        let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) else {
            return Self::default();
        };
        let span = last.abs_diff(*first);
        Self {
            first: *first,
            by_offset: if dense(span, ids.len()) {
                vec![NO_RELEASE; span as usize + 1]
            } else {
                Vec::new()
            },
            others: HashMap::new(),
            ids: Vec::with_capacity(ids.len()),
        }
    }

    /// Where `id`'s number is or goes in the table, if it belongs there.
    fn offset(&self, id: i64) -> Option<usize> {
        let offset = usize::try_from(id.checked_sub(self.first)?).ok()?;
        let room = self.by_offset.len().max(2 * self.ids.len() + 1024);
        // An id given a number in the map keeps it, though the table has grown past it.
        let mapped = !self.others.is_empty() && self.others.contains_key(&id);
        (offset < room && !mapped).then_some(offset)
    }

    fn number(&mut self, id: i64) -> u32 {
        let next = self.ids.len() as u32;
        let number = match self.offset(id) {
            Some(offset) => {
                if offset >= self.by_offset.len() {
                    self.by_offset.resize(offset + 1, NO_RELEASE);
                }
                let number = &mut self.by_offset[offset];
                if *number == NO_RELEASE {
                    *number = next;
                }
                *number
            }
            None => *self.others.entry(id).or_insert(next),
        };
        if number == next {
            self.ids.push(id);
        }
        number
    }

    /// The number of `id`, if it has one.
    fn get(&self, id: i64) -> Option<u32> {
        let tabled = self
            .offset(id)
            .and_then(|offset| self.by_offset.get(offset).copied());
        match tabled {
            Some(number) if number != NO_RELEASE => Some(number),
            _ => self.others.get(&id).copied(),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.by_offset.capacity() * size_of::<u32>()
            + self.others.capacity() * size_of::<(i64, u32)>()
            + self.ids.capacity() * size_of::<i64>()
    }
}

/// What rows name by number: programs, and releases with the program of each, so that a
/// row holds a 4-byte number for either, and a row of a release may leave its program to
/// the release.
#[derive(Debug, Clone, Default)]
pub struct Numbering {
    pub programs: Programs,
    releases: ReleaseIds,
    /// The program number of each release number; [`NO_PROGRAM`] until its release arrives.
    release_programs: Vec<u32>,
}

impl Numbering {
    /// Ready for `releases`, the ids of the releases there are.
    pub fn new(releases: &[i64]) -> Self {
        Self {
            programs: Programs::default(),
            releases: ReleaseIds::new(releases),
            release_programs: Vec::with_capacity(releases.len()),
        }
    }

    /// The number of release `id`, numbering it if it is new.
    pub fn release(&mut self, id: i64) -> u32 {
        let number = self.releases.number(id);
        if number as usize == self.release_programs.len() {
            self.release_programs.push(NO_PROGRAM);
        }
        number
    }

    /// The numbers of releases `ids`, numbering those that are new.
    pub fn releases(&mut self, ids: &[i64]) -> Vec<u32> {
        ids.iter().map(|id| self.release(*id)).collect()
    }

    /// Numbers release `id` of program `program` (which a release may change).
    pub fn place(&mut self, id: i64, program: i64) -> u32 {
        let number = self.release(id);
        self.release_programs[number as usize] = self.programs.number(program);
        number
    }

    /// [`Numbering::place`] for each of `ids` with `programs`.
    pub fn placed(&mut self, ids: &[i64], programs: &[i64]) -> Vec<u32> {
        ids.iter()
            .zip(programs)
            .map(|(id, program)| self.place(*id, *program))
            .collect()
    }

    /// The number of release `id`, if it has one.
    pub fn number_of(&self, id: i64) -> Option<u32> {
        self.releases.get(id)
    }

    /// The id of release number `number`.
    pub fn release_id(&self, number: u32) -> Option<i64> {
        self.releases.ids.get(number as usize).copied()
    }

    /// The program number of each release number.
    pub fn release_programs(&self) -> &[u32] {
        &self.release_programs
    }

    /// Bytes the numbering holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.programs.heap_bytes(|_| 0)
            + self.releases.heap_bytes()
            + self.release_programs.capacity() * size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_looked_up_densely_or_sparsely_alike() {
        let dense = ById::new(&[3_i64, 1, 2], [30, 10, 20].into_iter());
        assert!(matches!(dense, ById::Dense { .. }));
        let sparse = ById::new(&[3_i64, 1, 1 << 40], [30, 10, 99].into_iter());
        assert!(matches!(sparse, ById::Sparse(_)));
        for index in [&dense, &sparse] {
            assert_eq!((index.get(1), index.get(3)), (Some(10), Some(30)));
            assert_eq!(
                (index.get(0), index.get(4), index.get(i64::MIN)),
                (None, None, None)
            );
        }
        assert_eq!(sparse.get(1_i64 << 40), Some(99));
        let none = ById::<i64>::new::<i64>(&[], std::iter::empty());
        assert_eq!(none.get(1), None);
    }

    #[test]
    fn every_distinct_key_has_a_slot_below_len() {
        for keys in [vec![5_i64, 7, 5, 6], vec![1 << 40, 3, 1 << 40, -9]] {
            let slots = Slots::new(&keys);
            let mut seen: Vec<usize> = keys.iter().filter_map(|k| slots.of(*k)).collect();
            assert_eq!(seen.len(), keys.len());
            assert!(seen.iter().all(|s| *s < slots.len()));
            assert_eq!(slots.of(keys[0]), slots.of(keys[2]));
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), 3);
            assert_eq!(slots.of(123_456), None);
        }
        assert_eq!(Slots::new::<i64>(&[]).len(), 0);
    }

    #[test]
    fn programs_keep_their_numbers_as_more_arrive() {
        let mut programs = Programs::default();
        assert_eq!(programs.numbers(&[1 << 40, 7, 1 << 40]), [0, 1, 0]);
        assert_eq!(programs.numbers(&[-3, 7]), [2, 1]);
        assert_eq!((programs.get(&7), programs.get(&8)), (Some(1), None));
        assert_eq!(programs.len(), 3);
    }

    #[test]
    fn release_ids_dense_or_not_keep_the_number_they_were_first_given() {
        for start in [vec![10, 11, 13], vec![10, 1 << 50], Vec::new()] {
            let mut n = Numbering::new(&start);
            // Ids inside and below the table, ids that grow it, ids far beyond it.
            let ids = [
                11,
                10,
                9,
                -5,
                14,
                13,
                1 << 50,
                3000,
                2000,
                1 << 40,
                1040,
                12,
            ];
            let numbers: Vec<u32> = ids.iter().map(|id| n.release(*id)).collect();
            assert_eq!(
                numbers,
                (0..ids.len() as u32).collect::<Vec<_>>(),
                "{start:?}"
            );
            let again: Vec<u32> = ids.iter().rev().map(|id| n.release(*id)).collect();
            assert!(again.iter().rev().eq(numbers.iter()), "{start:?}");
            for (id, number) in ids.iter().zip(&numbers) {
                assert_eq!(n.release_id(*number), Some(*id));
            }
            assert_eq!(n.release_programs().len(), ids.len());
            assert!(
                n.releases.by_offset.len() <= 2 * ids.len() + 1024,
                "{start:?}"
            );
        }
    }

    #[test]
    fn a_release_is_numbered_once_and_keeps_its_latest_program() {
        let mut n = Numbering::default();
        let early = n.release(1 << 45);
        assert_eq!(n.release_programs(), [NO_PROGRAM]);
        assert_eq!(n.place(9, 70), 1);
        assert_eq!(n.place(1 << 45, 80), early);
        assert_eq!(n.releases(&[9, 1 << 45, 3]), [1, 0, 2]);
        assert_eq!(n.place(9, 80), 1);
        assert_eq!(
            (n.programs.get(&70), n.programs.get(&80)),
            (Some(0), Some(1))
        );
        assert_eq!(n.release_programs(), [1, 1, NO_PROGRAM]);
        assert_eq!((n.release_id(0), n.release_id(3)), (Some(1 << 45), None));
    }
}

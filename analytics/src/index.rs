//! Values by id, for the lookups that join millions of rows to their release or gate.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// Values by id: a vector indexed by id where the ids are dense (as database ids are), a
/// hash map otherwise.
pub enum ById<T> {
    Dense { first: i64, values: Vec<Option<T>> },
    Sparse(HashMap<i64, T>),
}

impl<T: Copy> ById<T> {
    /// The value of each id; for an id given twice, the last.
    pub fn new(ids: &[i64], values: impl Iterator<Item = T>) -> Self {
        let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) else {
            return Self::Sparse(HashMap::new());
        };
        let span = last.abs_diff(*first);
        if span > 4 * ids.len() as u64 + 1024 {
            return Self::Sparse(ids.iter().copied().zip(values).collect());
        }
        let mut dense = vec![None; span as usize + 1];
        for (id, value) in ids.iter().zip(values) {
            dense[(id - first) as usize] = Some(value);
        }
        Self::Dense {
            first: *first,
            values: dense,
        }
    }

    pub fn get(&self, id: i64) -> Option<T> {
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
    pub fn new(keys: &[i64]) -> Self {
        let (Some(first), Some(last)) = (keys.iter().min(), keys.iter().max()) else {
            return Self {
                first: 0,
                span: 0,
                sparse: Some(HashMap::new()),
            };
        };
        let span = last.abs_diff(*first);
        if span > 4 * keys.len() as u64 + 1024 {
            let mut map = HashMap::new();
            for key in keys {
                let next = map.len();
                map.entry(*key).or_insert(next);
            }
            return Self {
                first: *first,
                span: map.len(),
                sparse: Some(map),
            };
        }
        Self {
            first: *first,
            span: span as usize + 1,
            sparse: None,
        }
    }

    /// How many slots there are; every slot is below this.
    pub fn len(&self) -> usize {
        self.span
    }

    /// The slot of a key among those the slots were made from.
    pub fn of(&self, key: i64) -> Option<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_looked_up_densely_or_sparsely_alike() {
        let dense = ById::new(&[3, 1, 2], [30, 10, 20].into_iter());
        assert!(matches!(dense, ById::Dense { .. }));
        let sparse = ById::new(&[3, 1, 1 << 40], [30, 10, 99].into_iter());
        assert!(matches!(sparse, ById::Sparse(_)));
        for index in [&dense, &sparse] {
            assert_eq!((index.get(1), index.get(3)), (Some(10), Some(30)));
            assert_eq!(
                (index.get(0), index.get(4), index.get(i64::MIN)),
                (None, None, None)
            );
        }
        assert_eq!(sparse.get(1 << 40), Some(99));
        let none = ById::<i64>::new(&[], std::iter::empty());
        assert_eq!(none.get(1), None);
    }

    #[test]
    fn every_distinct_key_has_a_slot_below_len() {
        for keys in [vec![5, 7, 5, 6], vec![1 << 40, 3, 1 << 40, -9]] {
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
        assert_eq!(Slots::new(&[]).len(), 0);
    }

    #[test]
    fn programs_keep_their_numbers_as_more_arrive() {
        let mut programs = Programs::default();
        assert_eq!(programs.numbers(&[1 << 40, 7, 1 << 40]), [0, 1, 0]);
        assert_eq!(programs.numbers(&[-3, 7]), [2, 1]);
        assert_eq!((programs.get(&7), programs.get(&8)), (Some(1), None));
        assert_eq!(programs.len(), 3);
    }
}

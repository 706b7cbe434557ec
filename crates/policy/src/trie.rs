//! A byte trie answering "longest stored prefix of this path" in O(path length).

/// Maps byte-string prefixes to values; lookups never allocate.
#[derive(Debug, Default)]
pub(crate) struct PrefixTrie {
    nodes: Vec<Node>,
}

#[derive(Debug, Default)]
struct Node {
    /// Children sorted by byte, searched by binary search.
    edges: Vec<(u8, u32)>,
    value: Option<u32>,
}

impl PrefixTrie {
    /// An empty trie.
    pub(crate) fn new() -> Self {
        PrefixTrie {
            nodes: vec![Node::default()],
        }
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub(crate) fn insert(&mut self, key: &[u8], value: u32) {
        let mut node = 0usize;
        for &byte in key {
            let next = match self.nodes[node].edges.binary_search_by_key(&byte, |e| e.0) {
                Ok(i) => self.nodes[node].edges[i].1 as usize,
                Err(i) => {
                    let id = self.nodes.len();
                    self.nodes.push(Node::default());
                    self.nodes[node].edges.insert(i, (byte, id as u32));
                    id
                }
            };
            node = next;
        }
        self.nodes[node].value = Some(value);
    }

    /// The value under the longest stored key that is a prefix of `path`.
    pub(crate) fn longest(&self, path: &[u8]) -> Option<u32> {
        let mut node = self.nodes.first()?;
        let mut best = node.value;
        for &byte in path {
            match node.edges.binary_search_by_key(&byte, |e| e.0) {
                Ok(i) => node = &self.nodes[node.edges[i].1 as usize],
                Err(_) => break,
            }
            if node.value.is_some() {
                best = node.value;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        let mut t = PrefixTrie::new();
        assert_eq!(t.longest(b"anything"), None);
        t.insert(b"secret/", 1);
        t.insert(b"secret/team/", 2);
        t.insert(b"sec", 3);
        assert_eq!(t.longest(b"secret/team/x"), Some(2));
        assert_eq!(t.longest(b"secret/teams"), Some(1));
        assert_eq!(t.longest(b"secrets"), Some(3));
        assert_eq!(t.longest(b"se"), None);
        t.insert(b"", 4);
        assert_eq!(t.longest(b"se"), Some(4));
        t.insert(b"sec", 5);
        assert_eq!(t.longest(b"secr"), Some(5));
    }
}

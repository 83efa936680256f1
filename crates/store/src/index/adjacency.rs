//! One direction of an is-a graph in two flat arrays (compressed sparse rows): a concept's
//! neighbours are one slice, with no list of its own per concept.

use std::ops::Index;

/// The neighbours of concept `i` are `targets[offsets[i]..offsets[i + 1]]`.
#[derive(Clone, Debug, Default)]
pub struct Adjacency {
    offsets: Vec<u32>,
    targets: Vec<u32>,
}

impl Adjacency {
    /// The graph over `n_concepts` concepts with these `(from, to)` edges, each concept's
    /// neighbours in the order their edges came.
    pub fn from_edges(n_concepts: usize, edges: &[(u32, u32)]) -> Adjacency {
        let mut counts = vec![0u32; n_concepts + 1];
        for (from, _) in edges {
            counts[*from as usize + 1] += 1;
        }
        for idx in 1..counts.len() {
            counts[idx] += counts[idx - 1];
        }
        let offsets = counts;
        let mut cursor = offsets.clone();
        let mut targets = vec![0u32; edges.len()];
        for (from, to) in edges {
            let slot = &mut cursor[*from as usize];
            targets[*slot as usize] = *to;
            *slot += 1;
        }
        Adjacency { offsets, targets }
    }

    /// The same graph with every edge turned around (each concept's parents become its
    /// children's lists), in the order [`Adjacency::from_edges`] would give the turned edges
    /// listed by their old source.
    pub fn reversed(&self) -> Adjacency {
        let edges: Vec<(u32, u32)> =
            self.iter().enumerate().flat_map(|(from, targets)| targets.iter().map(move |to| (*to, from as u32))).collect();
        Adjacency::from_edges(self.len(), &edges)
    }

    /// The graph from its two arrays as [`Adjacency::offsets`] and [`Adjacency::targets`] gave
    /// them (read back from a saved index file), checked: offsets start at 0, never decrease and
    /// end at the number of targets, and every target is one of the `n_concepts` concepts.
    pub fn from_parts(n_concepts: usize, offsets: Vec<u32>, targets: Vec<u32>) -> Result<Adjacency, String> {
        if offsets.len() != n_concepts + 1 {
            return Err(format!("{} offsets for {n_concepts} concepts", offsets.len()));
        }
        if offsets[0] != 0 || offsets.windows(2).any(|pair| pair[0] > pair[1]) || offsets[n_concepts] as usize != targets.len() {
            return Err(format!("offsets out of order or not ending at the {} targets", targets.len()));
        }
        if let Some(target) = targets.iter().find(|target| **target as usize >= n_concepts) {
            return Err(format!("target {target} is not one of the {n_concepts} concepts"));
        }
        Ok(Adjacency { offsets, targets })
    }

    /// Where each concept's neighbours start in [`Adjacency::targets`], and one past the last.
    pub fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// Every concept's neighbours, one after the other.
    pub fn targets(&self) -> &[u32] {
        &self.targets
    }

    /// How many concepts the graph is over.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each concept's neighbours, in concept order.
    pub fn iter(&self) -> impl Iterator<Item = &[u32]> + '_ {
        (0..self.len()).map(move |idx| &self[idx])
    }
}

impl Index<usize> for Adjacency {
    type Output = [u32];

    fn index(&self, concept_idx: usize) -> &[u32] {
        &self.targets[self.offsets[concept_idx] as usize..self.offsets[concept_idx + 1] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_each_concepts_neighbours_in_edge_order() {
        let graph = Adjacency::from_edges(4, &[(2, 0), (0, 1), (2, 3), (2, 1)]);
        assert_eq!(graph.len(), 4);
        assert_eq!(&graph[0], &[1]);
        assert!(graph[1].is_empty());
        assert_eq!(&graph[2], &[0, 3, 1]);
        assert_eq!(graph.iter().map(<[u32]>::len).collect::<Vec<_>>(), [1, 0, 3, 0]);
        let reversed = graph.reversed();
        assert_eq!(reversed.iter().map(<[u32]>::to_vec).collect::<Vec<_>>(), [vec![2], vec![0, 2], vec![], vec![2]]);
        assert_eq!(reversed.reversed().iter().map(<[u32]>::to_vec).collect::<Vec<_>>(), [vec![1], vec![], vec![0, 1, 3], vec![]]);
    }

    #[test]
    fn parts_read_back_are_checked() {
        let graph = Adjacency::from_edges(3, &[(0, 1), (2, 1)]);
        let again = Adjacency::from_parts(3, graph.offsets().to_vec(), graph.targets().to_vec()).unwrap();
        assert_eq!(again.iter().collect::<Vec<_>>(), graph.iter().collect::<Vec<_>>());
        assert!(Adjacency::from_parts(3, vec![0, 1, 1], vec![1]).is_err(), "too few offsets");
        assert!(Adjacency::from_parts(2, vec![0, 2, 1], vec![1, 0]).is_err(), "offsets going back");
        assert!(Adjacency::from_parts(2, vec![0, 1, 2], vec![1, 2]).is_err(), "a target past the concepts");
        assert!(Adjacency::from_parts(2, vec![0, 1, 3], vec![1, 0]).is_err(), "offsets past the targets");
    }
}

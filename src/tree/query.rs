//! Read-only queries on the stacked tree for observers of the stacking
//! (`run::StackObserver`, used by the JSONL export of every path). They name
//! path nodes by id: ids are never reused, and a node that leaves the tree
//! (whited out, under an opaque directory, replaced) never comes back, so an
//! id taken after one layer still says, after the last one, whether that
//! path as written survived.

use super::{NodeKind, Tree, ROOT};

/// What a path node is, as the export reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    Dir,
    /// A regular file or a hardlink (both name an inode).
    File,
    Symlink,
    Other,
}

impl Tree {
    /// How many path nodes were ever created (ids are `0..node_count()`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The id of the node at `path` now (`""` is the root); parents are not
    /// resolved through symlinks (see [`Tree::resolve`]).
    pub fn node_at(&self, path: &[u8]) -> Option<u32> {
        if path.is_empty() {
            Some(ROOT)
        } else {
            self.lookup(path)
        }
    }

    /// What node `id` is.
    pub fn node_type(&self, id: u32) -> NodeType {
        match self.nodes[id as usize].kind {
            NodeKind::Dir => NodeType::Dir,
            NodeKind::File(_) => NodeType::File,
            NodeKind::Symlink(_) => NodeType::Symlink,
            NodeKind::Other => NodeType::Other,
        }
    }

    /// The inode node `id` names, when it is a regular file or hardlink.
    pub fn node_inode(&self, id: u32) -> Option<u32> {
        match self.nodes[id as usize].kind {
            NodeKind::File(ino) => Some(ino),
            _ => None,
        }
    }

    /// Calls `f(name, child id)` for each child of directory node `id`
    /// (in no particular order; nothing for a non-directory). Works on a
    /// node that has left the tree too: its children are still attached.
    pub fn for_each_child(&self, id: u32, mut f: impl FnMut(&[u8], u32)) {
        if let NodeKind::Dir = self.nodes[id as usize].kind {
            for child in self.names.children(id) {
                f(self.names.name(child), child);
            }
        }
    }
}

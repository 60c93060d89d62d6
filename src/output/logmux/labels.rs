//! The prefixes: each instance's label and formation's own, padded to one column.
//!
//! Owns: the names the labels are made from and the width they are padded to. The start's
//! labels never change; an instance added while running (`scale`, `reload`) gets its label at
//! its spawn, and a name longer than every other (`consumer.10`) re-pads every label,
//! formation's own too, as docker compose does: the lines from then on share one column again.

use super::OWN_NAME;
use crate::output::format::{Label, Style};

pub(super) struct Labels {
    labels: Vec<Label>,
    /// Each label's instance name and process type index: what a re-padding remakes it from.
    names: Vec<(Box<str>, usize)>,
    /// The width names are padded to: the longest name so far.
    width: usize,
    /// How many labels were given at the start: those never change.
    planned: usize,
    own: Label,
}

impl Labels {
    /// The start's labels: `names` are the instance names with their process type index (for
    /// the colour); label ids are indexes into it.
    pub fn new(names: &[(String, usize)], style: &Style) -> Labels {
        let width = names
            .iter()
            .map(|(n, _)| n.len())
            .chain([OWN_NAME.len()])
            .max()
            .unwrap_or(0);
        let labels: Vec<Label> = names
            .iter()
            .map(|(name, index)| Label::new(name, width, Some(*index), style))
            .collect();
        Labels {
            planned: labels.len(),
            labels,
            names: names.iter().map(|(n, t)| (n.as_str().into(), *t)).collect(),
            width,
            own: Label::new(OWN_NAME, width, None, style),
        }
    }

    /// Sets label `id` for an added instance. Slots may spawn out of order (an added type
    /// waits for its `after`), so a label past the start's is made anew each time, and a gap
    /// is filled with this one until its own instance spawns.
    pub fn set(&mut self, id: usize, name: &str, type_index: usize, style: &Style) {
        if id < self.planned {
            return;
        }
        while self.names.len() <= id {
            self.names.push((name.into(), type_index));
        }
        self.names[id] = (name.into(), type_index);
        if name.len() > self.width {
            self.width = name.len();
            self.own = Label::new(OWN_NAME, self.width, None, style);
            self.labels.clear();
        }
        let width = self.width;
        let made = |(name, t): &(Box<str>, usize)| Label::new(name, width, Some(*t), style);
        match self.labels.get_mut(id) {
            Some(label) => *label = made(&self.names[id]),
            None => {
                let from = self.labels.len();
                self.labels.extend(self.names[from..].iter().map(made));
            }
        }
    }

    pub fn get(&self, id: usize) -> &Label {
        &self.labels[id]
    }

    pub fn own(&self) -> &Label {
        &self.own
    }
}

//! What sessions cost the machine: process trees and memory from /proc.

pub mod own_process;
pub mod process_tree;
pub mod prometheus;

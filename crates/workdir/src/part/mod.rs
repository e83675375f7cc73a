//! Parquet part files: written whole under a temporary name, listed only once complete.

pub mod reader;
pub mod writer;

pub use reader::{Batches, PartReader};

pub use writer::{
    id_map_properties, part_properties, repeating_text, write_file, write_instance_stats,
    writer_properties, LazyPartWriter, PartMeta, PartWriter, META_COLUMN_ROLES, META_RUN_ID,
    META_TABLE,
};

//! The presentation wing: everything a person or another program reads, above the analysis.
//! Query results as terminal tables, CSV and JSON (`table`), the scope report in every format
//! (`scope_report`, opening with `summary`), the `export xlsx` workbook (`workbook`), and the
//! printed summaries of ingest and verify (`runs`). Text from the evidence goes through
//! `crate::escape` on its way out. Owns no analysis: what it shows comes typed from `scope`,
//! `ingest` and `case`.

pub mod bookmarks;
pub mod document;
pub mod html;
pub mod overview;
pub mod runs;
pub mod scope_html;
pub mod scope_markdown;
pub mod scope_report;
pub mod scope_text;
pub mod summary;
pub mod table;
pub mod workbook;

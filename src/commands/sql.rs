//! `mcpforensics sql` and `mcpforensics tables`.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use super::results::{emit, query_error};
use super::{open_case_to_read, resolve_case, runtime, warn_file_check};
use crate::cli::{SqlArgs, TablesArgs};
use crate::error::{Error, Result, exit};
use crate::query::pack::PackParams;
use crate::query::{QueryEngine, QuerySettings};

pub(super) fn run_sql(args: &SqlArgs, settings: &QuerySettings) -> Result<u8> {
    use std::io::IsTerminal;
    let case_dir = resolve_case(&args.case)?;
    let case = open_case_to_read(&case_dir, &crate::cli::environment_credentials())?;
    let runtime = runtime()?;
    let engine = runtime.block_on(QueryEngine::open(&case, settings))?;
    let code = warn_file_check(engine.file_check(), exit::OK);
    let Some(query) = &args.query else {
        let ran = if std::io::stdin().is_terminal() {
            let label = case_dir.display().to_string();
            super::repl::interactive(&runtime, &engine, &label, args.format)
        } else {
            super::repl::script(&runtime, &engine, args.format)
        };
        return ran.map(|ok| ok.max(code));
    };
    let query = match (args.explain, args.analyze) {
        (false, _) => query.clone(),
        (true, false) => format!("EXPLAIN {query}"),
        (true, true) => format!("EXPLAIN ANALYZE {query}"),
    };
    let (schema, batches) = runtime
        .block_on(engine.sql(&query))
        .map_err(|source| query_error(&engine, source))?;
    emit(args.format, &schema, &batches)?;
    Ok(code)
}

pub(super) fn run_tables(args: &TablesArgs, settings: &QuerySettings) -> Result<u8> {
    let case_dir = resolve_case(&args.case)?;
    let case = open_case_to_read(&case_dir, &crate::cli::environment_credentials())?;
    runtime()?.block_on(async {
        let engine = QueryEngine::open(&case, settings).await?;
        let code = warn_file_check(engine.file_check(), exit::OK);
        // With --columns, one row per column: a list that is never cut, whatever its length.
        let (mut names, mut kinds, mut rows, mut columns, mut types) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for info in engine.tables() {
            let count = engine.count(&info.name).await?;
            let fields = info.schema.fields();
            if args.columns {
                for field in fields {
                    names.push(info.name.clone());
                    kinds.push(info.kind);
                    rows.push(count);
                    columns.push(field.name().clone());
                    types.push(field.data_type().to_string());
                }
            } else {
                names.push(info.name.clone());
                kinds.push(info.kind);
                rows.push(count);
                columns.push(format!("{} columns", fields.len()));
            }
        }
        let mut fields = vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
            Field::new("rows", DataType::UInt64, false),
            Field::new(
                if args.columns { "column" } else { "columns" },
                DataType::Utf8,
                false,
            ),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(names)),
            Arc::new(StringArray::from(kinds)),
            Arc::new(UInt64Array::from(rows)),
            Arc::new(StringArray::from(columns)),
        ];
        if args.columns {
            fields.push(Field::new("type", DataType::Utf8, false));
            arrays.push(Arc::new(StringArray::from(types)));
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| Error::Io {
            context: "building the table list".into(),
            source: std::io::Error::other(e),
        })?;
        emit(args.format, &schema, &[batch])?;
        Ok(code)
    })
}

pub(super) fn run_queries_list() -> Result<u8> {
    for query in crate::query::pack::queries() {
        crate::say!(
            "{}\n  {}\n  params: {}\n  depends: {}\n  output: {}\n",
            query.name,
            query.description,
            query.params.join(", "),
            if query.depends.is_empty() {
                "none".into()
            } else {
                query.depends.join(", ")
            },
            query.output
        );
    }
    Ok(exit::OK)
}

pub(super) fn run_queries_run(
    args: &crate::cli::QueriesRunArgs,
    settings: &QuerySettings,
) -> Result<u8> {
    let case_dir = resolve_case(&args.case)?;
    let case = open_case_to_read(&case_dir, &crate::cli::environment_credentials())?;
    let mut params = super::resolve_window(&case, &args.window)?;
    runtime()?.block_on(async {
        if !args.as_given {
            params = scoped_window(&case, &args.window, params, settings).await?;
        }
        let engine =
            QueryEngine::open_windowed(&case, &[], Some(params.day_window()), settings).await?;
        let code = warn_file_check(engine.file_check(), exit::OK);
        let (schema, batches) = if args.explain {
            engine
                .explain_pack(&args.name, &params, args.analyze)
                .await?
        } else {
            engine.run_pack(&args.name, &params).await?
        };
        emit(args.format, &schema, &batches)?;
        Ok(code)
    })
}

/// The window the scope reports for `params` (widened to the breach's first evidence), said on
/// standard error when it differs from the one given.
async fn scoped_window(
    case: &crate::case::Case,
    window: &crate::cli::WindowArgs,
    params: PackParams,
    settings: &QuerySettings,
) -> Result<PackParams> {
    let request = crate::scope::ScopeRequest {
        params,
        iocs: Vec::new(),
        all_days: false,
        method: super::window_method(window).into(),
        settings: settings.clone(),
    };
    let report = crate::scope::scope(case, &request).await?;
    let scoped = report.window.scoped_params().unwrap_or(params);
    if scoped != params {
        crate::tell!(
            "the window widened to the breach's first evidence: since {} (asked for {}), baseline from {}; --as-given runs on the window as given",
            report.window.scoped.since,
            report.window.requested.since,
            report.window.scoped.baseline_start
        );
    }
    Ok(scoped)
}

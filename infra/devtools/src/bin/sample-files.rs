//! Writes one small file of each accepted type into a folder, for trying the
//! documents API by hand:
//!
//!   cargo run -p devtools --bin sample-files -- samples/

use devtools::samples::{docx, pdf};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: sample-files <folder>");
        return ExitCode::from(2);
    };
    let files: [(&str, Vec<u8>); 4] = [
        (
            "refunds.md",
            b"# Refunds\n\nRefunds reach the original card within five business days.\n".to_vec(),
        ),
        (
            "warranty.txt",
            b"Warranty\n\nThe warranty covers parts and labour for two years.\n".to_vec(),
        ),
        (
            "opening-hours.docx",
            docx(&[
                "Opening hours",
                "The support desk opens at nine every weekday morning.",
            ]),
        ),
        (
            "shipping.pdf",
            pdf(&["Shipping\nParcels to the islands travel by ferry and arrive within a week."]),
        ),
    ];
    if let Err(error) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {error}", dir.display());
        return ExitCode::FAILURE;
    }
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Err(error) = std::fs::write(&path, bytes) {
            eprintln!("cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}

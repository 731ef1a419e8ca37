//! Rust's serde_json on the other side of RustGPT's own JSON (contract §9).
//!
//! `serde-json-oracle FILE` reads a version-0 document into structs shaped like
//! RustGPT's (every key required, no unknown key allowed) and writes it back to
//! standard output twice, as `serde_json::to_string` and `to_string_pretty` do,
//! separated by a NUL byte. Map order is not serde's to choose (RustGPT's vocab maps
//! are hash maps), so the vocab is written with sorted keys; the caller compares the
//! rest byte for byte.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Array2 {
    v: u8,
    dim: [usize; 2],
    data: Vec<f32>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Adam {
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    timestep: usize,
    m: Array2,
    v: Array2,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Embeddings {
    token_embeddings: Array2,
    positional_embeddings: Array2,
    cached_input: Option<Array2>,
    token_optimizer: Adam,
    positional_optimizer: Adam,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SelfAttention {
    embedding_dim: usize,
    w_q: Array2,
    w_k: Array2,
    w_v: Array2,
    cached_input: Option<Array2>,
    optimizer_w_q: Adam,
    optimizer_w_k: Adam,
    optimizer_w_v: Adam,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LayerNorm {
    epsilon: f32,
    gamma: Array2,
    beta: Array2,
    cached_input: Option<Array2>,
    cached_mean: Option<Array2>,
    cached_std: Option<Array2>,
    optimizer_gamma: Adam,
    optimizer_beta: Adam,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedForward {
    w1: Array2,
    b1: Array2,
    w2: Array2,
    b2: Array2,
    input: Option<Array2>,
    hidden_pre_activation: Option<Array2>,
    hidden_post_activation: Option<Array2>,
    optimizer_w1: Adam,
    optimizer_b1: Adam,
    optimizer_w2: Adam,
    optimizer_b2: Adam,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputProjection {
    w_out: Array2,
    b_out: Array2,
    optimizer: Adam,
    cached_input: Option<Array2>,
}

#[derive(Serialize, Deserialize)]
enum LayerEnum {
    Embeddings(Embeddings),
    SelfAttention(SelfAttention),
    FeedForward(FeedForward),
    LayerNorm(LayerNorm),
    OutputProjection(OutputProjection),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vocab {
    encode: BTreeMap<String, usize>,
    decode: BTreeMap<usize, String>,
    words: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Llm {
    vocab: Vocab,
    network: Vec<LayerEnum>,
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: serde-json-oracle FILE");
        return ExitCode::from(2);
    };
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("{path}: {error}");
            return ExitCode::from(2);
        }
    };
    let llm: Llm = match serde_json::from_slice(&text) {
        Ok(llm) => llm,
        Err(error) => {
            eprintln!("serde_json refused {path}: {error}");
            return ExitCode::from(1);
        }
    };
    let compact = serde_json::to_string(&llm).expect("serializable");
    let pretty = serde_json::to_string_pretty(&llm).expect("serializable");
    print!("{compact}\0{pretty}");
    ExitCode::SUCCESS
}

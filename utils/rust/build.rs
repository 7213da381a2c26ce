// SPDX-License-Identifier: LGPL-2.1-or-later
//! Links libgpudmalock.  An installed library (libgpudmalock-dev) is found
//! on the default path; GPUDMALOCK_LIB_DIR points at another one, such as
//! the project's build/utils.
fn main() {
    println!("cargo:rerun-if-env-changed=GPUDMALOCK_LIB_DIR");
    if let Ok(dir) = std::env::var("GPUDMALOCK_LIB_DIR") {
        println!("cargo:rustc-link-search=native={}", dir);
    }
    println!("cargo:rustc-link-lib=dylib=gpudmalock");
}

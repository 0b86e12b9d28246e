//! The Ketepai desktop and mobile shell (placeholder until the shell lands).

#pragma once

namespace hookline {

//! Names the calling thread (at most 15 characters are kept), so `top -H`, `perf` and
//! /proc/PID/task/*/comm show what each thread of a server is.
void NameThisThread(const char* name);

}  // namespace hookline

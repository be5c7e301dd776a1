#include "hookline/util/thread_name.hpp"

#include <pthread.h>

namespace hookline {

void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace hookline

// The one way C++ files include PostgreSQL: the C++ standard headers first (PostgreSQL's port.h
// redefines snprintf and friends as macros), then the server headers with C linkage, since they
// carry no extern "C" guards of their own. Include this after every other header of a file.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

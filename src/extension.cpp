// The library's identity: the module magic block every PostgreSQL library carries.
#include "electric_shapes/postgres.hpp"

extern "C" {
PG_MODULE_MAGIC;
}

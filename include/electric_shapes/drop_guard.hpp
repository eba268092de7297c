// The guard that refuses to drop the extension while replication slots decode with its plugin
// (see drop_guard.cpp).
#pragma once

namespace es {

// Installs the object access hook; called once per process, from _PG_init.
void install_drop_guard();

}  // namespace es

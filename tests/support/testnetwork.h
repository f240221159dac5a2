#pragma once

#include <QtGlobal>

namespace edgelens::test {

// A loopback port nothing listens on (just released by the system), for "connection refused".
quint16 unusedLoopbackPort();

} // namespace edgelens::test

#pragma once

// docs/DEPLOY.md's configuration examples, run by the tests as the docs print them: a
// ```language block, with its listening port and its devices (192.0.2.N:port) replaced by the
// test's loopback ports.

#include <QHash>
#include <QString>

namespace edgelens::test {

// The first ```language block of docs/DEPLOY.md that contains `marker`; empty with *error.
QString deployBlock(const QString &language, const QString &marker, QString *error);

// `block` with `listen <port>` / `bind :<port>` on 127.0.0.1:listenPort, and every device line
// `server [name] 192.0.2.N:<port>` pointed at 127.0.0.1:devices[N]; devices not in the map
// are left out. Empty with *error when the block no longer has one listening line and every
// mapped device.
QString rewriteDeployBlock(const QString &block, quint16 docsPort, quint16 listenPort,
                           const QHash<int, quint16> &devices, QString *error);

} // namespace edgelens::test

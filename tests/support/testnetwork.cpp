#include "testnetwork.h"

#include <QTcpServer>

namespace edgelens::test {

quint16 unusedLoopbackPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        qWarning("unusedLoopbackPort: cannot listen on 127.0.0.1: %s", qPrintable(probe.errorString()));
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

} // namespace edgelens::test

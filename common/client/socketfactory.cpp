#include "socketfactory.h"

#include <QTcpSocket>

namespace edgelens {

SocketFactory::~SocketFactory() = default;

QTcpSocket *PlainSocketFactory::connectTo(const DeviceSpec &device, QObject *parent, std::function<void()> established,
                                          std::function<void(const QString &reason)> rejected)
{
    Q_UNUSED(rejected)
    auto *socket = new QTcpSocket(parent);
    QObject::connect(socket, &QTcpSocket::connected, socket, std::move(established));
    socket->connectToHost(device.host, device.port);
    return socket;
}

} // namespace edgelens

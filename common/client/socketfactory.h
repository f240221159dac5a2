#pragma once

// Makes the connected sockets transports write to. The plain factory opens TCP; a TLS factory
// (TlsSocketFactory) opens QSslSocket and checks the device's identity before a transport may
// send a byte. Transports never know which one they got.

#include "client/devicespec.h"

#include <QString>

#include <functional>

class QObject;
class QTcpSocket;

namespace edgelens {

class SocketFactory
{
public:
    SocketFactory() = default;
    virtual ~SocketFactory();
    SocketFactory(const SocketFactory &) = delete;
    SocketFactory &operator=(const SocketFactory &) = delete;

    // A socket (child of parent) that starts connecting to the device. established runs once
    // bytes may be written; rejected runs instead when the device is reachable but must not be
    // used (its identity did not check out), with the reason to show.
    virtual QTcpSocket *connectTo(const DeviceSpec &device, QObject *parent, std::function<void()> established,
                                  std::function<void(const QString &reason)> rejected) = 0;
};

class PlainSocketFactory final : public SocketFactory
{
public:
    QTcpSocket *connectTo(const DeviceSpec &device, QObject *parent, std::function<void()> established,
                          std::function<void(const QString &reason)> rejected) override;
};

} // namespace edgelens

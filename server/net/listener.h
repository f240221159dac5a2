#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>

namespace edgelens {

// One kind of port the server accepts clients on (plain TCP, TLS, HTTP). Every kind serves
// through the same DetectionService; DetectionServer owns the listeners, starts and drains
// them together. A new kind subclasses this and is handed to DetectionServer::addListener().
class Listener : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Listener)

public:
    using QObject::QObject;

    virtual QString kind() const = 0; // "tcp", "tls", "http": for log lines
    virtual bool listen(const QHostAddress &host, quint16 port, QString *error) = 0;
    virtual bool isListening() const = 0;
    virtual quint16 serverPort() const = 0;
    virtual QHostAddress serverAddress() const = 0;
    virtual int connectionCount() const = 0;
    virtual int runningRequests() const = 0;
    // Stop accepting, let running requests be answered, close every connection, then emit
    // drained() (possibly before returning, when nothing was open).
    virtual void drain() = 0;
    // Close the port and drop every connection now. Safe to call twice.
    virtual void stop() = 0;

signals:
    void drained();
};

} // namespace edgelens

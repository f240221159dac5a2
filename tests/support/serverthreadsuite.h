#pragma once

// The base of the Qt Test suites that drive an ServerThread from the test thread: the server
// a test started (stopped after each test) and the small good image every suite sends to show
// the server still serves after something bad. A suite derives from it and adds its tests as
// private slots; initTestCase and cleanup come from here.

#include "serverthread.h"

#include <QByteArray>
#include <QObject>

#include <memory>

namespace edgelens::test {

class ServerThreadSuite : public QObject
{
    Q_OBJECT

protected:
    std::unique_ptr<ServerThread> m_server;
    QByteArray m_small; // example_02.jpg, 6 KB: the "good request" after each bad one

    bool startServer(const ServerConfig &config);

private slots:
    void initTestCase();
    void cleanup();
};

} // namespace edgelens::test

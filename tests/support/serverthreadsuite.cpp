#include "serverthreadsuite.h"

#include "testdata.h"

#include <QDir>
#include <QStandardPaths>
#include <QTest>

namespace edgelens::test {

bool ServerThreadSuite::startServer(const ServerConfig &config)
{
    m_server = ServerThread::started(config);
    return m_server != nullptr;
}

void ServerThreadSuite::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY2(QDir(samplesDir()).exists(), qPrintable(samplesDir()));
    m_small = readSample(QStringLiteral("example_02.jpg"));
}

void ServerThreadSuite::cleanup()
{
    m_server.reset();
}

} // namespace edgelens::test

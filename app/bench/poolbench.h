#pragma once

// edgelens-bench --pool: the client pool against real edgelens-server processes on loopback,
// each `--workers 1 --threads 1` so one device is one core's worth of work. Images/s with one,
// two and three devices, and a failover run (one device killed mid-run and restarted) that
// counts completed, failed and duplicate answers.

#include "client/devicespec.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QTextStream>

#include <memory>
#include <vector>

class QProcess;

namespace edgelens {

struct PoolFigures
{
    int devices = 0;
    int completed = 0;
    int failed = 0;
    int duplicates = 0; // answers for a request that had already ended
    double seconds = 0;
    double imagesPerSecond = 0;
    QList<DeviceStatus> statuses;
    QString firstError;
};

class PoolBench final
{
    Q_DISABLE_COPY_MOVE(PoolBench)

public:
    PoolBench(const QString &serverProgram, const QString &model, const QList<QByteArray> &images);
    ~PoolBench();

    // Prints the tables; returns 0, or 1 when the servers could not be started.
    int run(double seconds, int count, bool markdown, QTextStream &out, QTextStream &err);

private:
    bool startServer(int index, QString *error);
    bool waitUntilListening(int index, QString *error);
    // killAtSeconds > 0: SIGKILL device 1 then, start it again restartAfterSeconds later.
    PoolFigures measure(int devices, double seconds, int count, double killAtSeconds = 0,
                        double restartAfterSeconds = 0);

    QString m_serverProgram;
    QString m_model;
    QList<QByteArray> m_images;
    QList<quint16> m_ports;
    std::vector<std::unique_ptr<QProcess>> m_servers;
};

} // namespace edgelens

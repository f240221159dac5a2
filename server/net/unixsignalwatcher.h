#pragma once

#include <QList>
#include <QObject>

class QSocketNotifier;

namespace edgelens {

// Turns SIGINT/SIGTERM (or any signals) into a Qt signal in the event loop: the handler only
// writes the signal number to a socketpair (async-signal-safe); a QSocketNotifier reads it.
// One instance per process; the previous handlers are restored on destruction.
class UnixSignalWatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UnixSignalWatcher)

public:
    explicit UnixSignalWatcher(const QList<int> &signalNumbers, QObject *parent = nullptr);
    ~UnixSignalWatcher() override;

    bool isValid() const { return m_notifier != nullptr; }

signals:
    void signalReceived(int signalNumber);

private slots:
    void readSignals();

private:
    QSocketNotifier *m_notifier = nullptr;
    QList<int> m_signalNumbers;
};

} // namespace edgelens

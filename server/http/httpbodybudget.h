#pragma once

#include <QList>
#include <QtGlobal>

#include <functional>

namespace edgelens {

// The bytes of request bodies the HTTP port holds in memory, all connections together. A
// connection reserves a body's Content-Length before it reads the body and releases it once
// the request is answered; one that does not fit waits in line (first come, first served, so
// a large body is not passed over for ever by small ones). Single-threaded: the listener's.
class HttpBodyBudget final
{
    Q_DISABLE_COPY_MOVE(HttpBodyBudget)

public:
    using Ticket = quint64;

    explicit HttpBodyBudget(qint64 capacity)
        : m_capacity(capacity)
    {
    }

    qint64 capacity() const { return m_capacity; }
    qint64 reserved() const { return m_reserved; }
    int waiting() const { return int(m_waiters.size()); }

    // Reserves `bytes` now when they fit and nobody waits before; otherwise false.
    bool tryReserve(qint64 bytes);
    // Waits for room: `granted` runs (from a later release()) once `bytes` are reserved for
    // the caller. A ticket to cancel the wait.
    Ticket wait(qint64 bytes, std::function<void()> granted);
    void cancel(Ticket ticket);
    void release(qint64 bytes);

private:
    struct Waiter
    {
        Ticket ticket;
        qint64 bytes;
        std::function<void()> granted;
    };

    qint64 m_capacity;
    qint64 m_reserved = 0;
    QList<Waiter> m_waiters;
    Ticket m_nextTicket = 1;
};

} // namespace edgelens

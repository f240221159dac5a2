#include "httpbodybudget.h"

namespace edgelens {

bool HttpBodyBudget::tryReserve(qint64 bytes)
{
    if (!m_waiters.isEmpty() || m_reserved + bytes > m_capacity)
        return false;
    m_reserved += bytes;
    return true;
}

HttpBodyBudget::Ticket HttpBodyBudget::wait(qint64 bytes, std::function<void()> granted)
{
    const Ticket ticket = m_nextTicket++;
    m_waiters.append(Waiter{ticket, bytes, std::move(granted)});
    return ticket;
}

void HttpBodyBudget::cancel(Ticket ticket)
{
    m_waiters.removeIf([ticket](const Waiter &w) { return w.ticket == ticket; });
    release(0); // the next in line may fit now
}

void HttpBodyBudget::release(qint64 bytes)
{
    m_reserved = qMax<qint64>(0, m_reserved - bytes);
    while (!m_waiters.isEmpty() && m_reserved + m_waiters.first().bytes <= m_capacity) {
        Waiter waiter = m_waiters.takeFirst();
        m_reserved += waiter.bytes;
        waiter.granted();
    }
}

} // namespace edgelens

#pragma once

// Avahi's client library asks its host program for a main loop through the AvahiPoll table
// (watch a descriptor, wake me at a time). This one is Qt's event loop: a QSocketNotifier per
// watched direction and a single-shot QTimer per timeout, so Avahi's callbacks run on the
// thread that owns the QtAvahiPoll, with no thread of its own. (Debian ships avahi-qt for Qt 5
// only.) Everything Avahi created through it must be freed (avahi_client_free) before it goes.

#include <QtGlobal>

#include <avahi-common/watch.h>

namespace edgelens {

class QtAvahiPoll final
{
    Q_DISABLE_COPY_MOVE(QtAvahiPoll)

public:
    QtAvahiPoll();
    ~QtAvahiPoll();

    const AvahiPoll *api() const { return &m_api; }

private:
    AvahiPoll m_api;
};

} // namespace edgelens

// Package web is what the gateway's rooms share: the one identity middleware
// and the rooms by audience, the audit trail's declarations (every route
// says whether it reads, changes or does not touch personal data, and the
// audited ones write their entry before their answer leaves), problem
// documents and JSON bodies, the page renderer with its security headers
// and the error page, CSRF tokens and the cross-origin protection, rate
// limits, server-sent events and the reading of uploads.
package web

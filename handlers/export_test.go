package handlers

// ChecksTokenAgain lets tests see which routes may sign a scanner in from
// the remembered tokens.
var ChecksTokenAgain = checksTokenAgain

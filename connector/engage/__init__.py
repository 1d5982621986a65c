"""engage"""
